/**
 * Several idle lanes (idle-lane.ts) as the drain's one: pictures up and update requests share
 * the lowest lane, its budget and its one message on the wire at a time. They take turns (the
 * one that went last is asked last), so a long picture backlog does not stall an update, nor
 * an update the pictures.
 */
import type { IdleLane, IdleMessage } from './idle-lane.js';

export class IdleLanes implements IdleLane {
  private last = -1;

  constructor(private readonly lanes: readonly IdleLane[]) {}

  peek(): IdleMessage | null {
    const n = this.lanes.length;
    for (let k = 1; k <= n; k++) {
      const i = (this.last + k) % n;
      const msg = this.lanes[i]!.peek();
      if (!msg) continue;
      return {
        ...msg,
        sent: () => {
          this.last = i;
          msg.sent();
        },
      };
    }
    return null;
  }

  linkChanged(up: boolean): void {
    for (const lane of this.lanes) lane.linkChanged(up);
  }

  onReady(wake: () => void): void {
    for (const lane of this.lanes) lane.onReady(wake);
  }
}
