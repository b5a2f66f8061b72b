/**
 * How much of the Node-RED child's chatter reaches the agent's log: a flow that logs in a loop
 * (node.warn in a busy flow, a request refused 10,000 times a second) must not fill the SD card
 * or keep the agent busy writing. Up to 20 lines a second, then one line a minute saying how
 * many were left out.
 */
import type { Logger } from 'pino';
import type { LogLevel } from '../../core/contracts/nodered-ipc.js';
import { TokenBucket } from '../uplink/token-bucket.js';
import { failure } from '../../core/kernel/errors.js';

const LINES_PER_SEC = 20;
const SUMMARY_EVERY_MS = 60_000;

export class LogBudget {
  private readonly bucket: TokenBucket;
  private suppressed = 0;
  private lastSummary: number;

  constructor(
    private readonly logger: Logger,
    private readonly monoMs: () => number,
  ) {
    this.bucket = new TokenBucket(LINES_PER_SEC, LINES_PER_SEC, monoMs);
    this.lastSummary = monoMs();
  }

  /** Whether a line may be logged now; counts it when not. */
  take(): boolean {
    if (this.suppressed > 0 && this.monoMs() - this.lastSummary >= SUMMARY_EVERY_MS) {
      this.logger.warn(
        failure('NODE_RED_LOG', null, { suppressed: this.suppressed }),
        'Node-RED log lines left out (over 20 a second)',
      );
      this.suppressed = 0;
      this.lastSummary = this.monoMs();
    }
    if (this.bucket.take() === 0) return true;
    this.suppressed += 1;
    return false;
  }

  /**
   * A line the child logged, at its level, within the budget; its warnings and errors carry a
   * code as every failure line does: NODE_RED_FAILED when the child's runtime says it failed
   * (a flow could forge that flag: it only changes a code), else NODE_RED_LOG.
   */
  relay(log: Logger, m: { level: LogLevel; msg: unknown; runtime?: true }): void {
    if (!this.take()) return;
    const text = String(m.msg).slice(0, 1000);
    const { level } = m;
    const code = m.runtime ? 'NODE_RED_FAILED' : 'NODE_RED_LOG';
    if (level === 'warn' || level === 'error' || level === 'fatal') log[level](failure(code), text);
    else log[level in log ? level : 'info'](text);
  }
}
