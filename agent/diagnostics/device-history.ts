/**
 * The last few events of each device seen on the bus, for the county's `device` command: what
 * a sensor said last, or when an input last moved, without a trip to the village. Memory only,
 * bounded in events per device and in devices (an id the config does not know can still be
 * seen, from Node-RED, so the map is capped too).
 */
import type { GatewayEvent } from '../../core/contracts/event.js';

export const EVENTS_PER_DEVICE = 10;
const MAX_DEVICES = 500;

export interface SeenEvent {
  id: string;
  seq: number;
  ts: string;
  type: string;
  data: unknown;
}

export class DeviceHistory {
  private readonly byDevice = new Map<string, SeenEvent[]>();

  constructor(private readonly perDevice = EVENTS_PER_DEVICE) {}

  /** A bus listener (EventBus.subscribe). */
  readonly see = (e: GatewayEvent): void => {
    let list = this.byDevice.get(e.deviceId);
    if (!list) {
      if (this.byDevice.size >= MAX_DEVICES) this.byDevice.delete(this.byDevice.keys().next().value!);
      list = [];
      this.byDevice.set(e.deviceId, list);
    }
    list.push({ id: e.id, seq: e.seq, ts: e.ts, type: e.type, data: e.data });
    if (list.length > this.perDevice) list.shift();
  };

  /** Oldest first. */
  of(deviceId: string): SeenEvent[] {
    return [...(this.byDevice.get(deviceId) ?? [])];
  }
}
