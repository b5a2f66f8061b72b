/**
 * An in-process agent for field-fault and teardown tests: like AgentRig (events seen on
 * the bus), and its log lines are kept so a test can check what the agent said (which
 * driver did not stop in time, which library error it counted).
 */
import pino from 'pino';
import { Agent } from '../../agent/agent.js';
import type { GatewayEvent } from '../../agent/contracts/event.js';
import type { GatewayConfig } from '../../config/schema/gateway-config.js';

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export class FieldRig {
  readonly events: GatewayEvent[] = [];
  readonly logs: LogLine[] = [];
  readonly agent: Agent;

  constructor(config: GatewayConfig, baseDir: string) {
    const logger = pino({ level: 'info' }, { write: (line: string) => void this.logs.push(JSON.parse(line) as LogLine) });
    this.agent = new Agent({ config, configHash: 'field-rig', baseDir, logger });
    this.agent.bus.subscribe((e) => this.events.push(e));
  }

  of(deviceId: string, type?: string): GatewayEvent[] {
    return this.events.filter((e) => e.deviceId === deviceId && (type === undefined || e.type === type));
  }

  /** Log lines whose message contains `text`. */
  logged(text: string): LogLine[] {
    return this.logs.filter((l) => l.msg.includes(text));
  }

  async waitFor(pred: (e: GatewayEvent) => boolean, ms = 5000, what = 'an event'): Promise<GatewayEvent> {
    const end = Date.now() + ms;
    for (;;) {
      const hit = this.events.find(pred);
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; saw: ${this.events.map((e) => `${e.deviceId}:${e.type}`).join(', ')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
