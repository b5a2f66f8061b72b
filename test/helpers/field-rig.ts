/**
 * An in-process agent for field-fault and teardown tests: an AgentRig (events seen on the
 * bus) whose log lines are kept, so a test can check what the agent said (which driver did
 * not stop in time, which library error it counted).
 */
import pino from 'pino';
import type { GatewayConfig } from '../../config/schema/gateway-config.js';
import { AgentRig } from './modbus-rig.js';

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export class FieldRig extends AgentRig {
  readonly logs: LogLine[] = [];

  constructor(config: GatewayConfig, baseDir: string) {
    const logs: LogLine[] = [];
    super(
      config,
      baseDir,
      pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) }),
    );
    this.logs = logs;
  }

  /** Log lines whose message contains `text`. */
  logged(text: string): LogLine[] {
    return this.logs.filter((l) => l.msg.includes(text));
  }
}
