/**
 * The nonces of signed commands that ran, in `<dataDir>/command-nonces.json`, so a signed
 * command replayed from the broker (or by whoever recorded it) is refused, after a restart too.
 * A nonce is written only once its signature verified (a stranger cannot fill the file) and kept
 * only until its command's expiry: after that the command is refused as EXPIRED anyway. So that a
 * gateway whose clock comes back wrong (no battery clock) cannot take a forgotten command for
 * fresh, the file also keeps `floor`, the latest time the store judged by: "now" never goes back
 * behind it (the router tells its command clock at load).
 * Bounded: at most MAX_NONCES commands within their expiry at once; past that a signed command
 * is refused (RATE_LIMITED) rather than an unexpired nonce forgotten.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { keepAside, writeFileDurably } from '../durable-file.js';
import { failure, GatewayError } from '../../core/kernel/errors.js';

export const MAX_NONCES = 500;
export const nonceFile = (dataDir: string) => join(dataDir, 'command-nonces.json');

const fileSchema = z.strictObject({
  v: z.literal(1),
  floor: z.number(),
  nonces: z.record(z.string(), z.number()),
});

export class NonceStore {
  private nonces: Map<string, number> | null = null;
  private floor = 0;

  constructor(
    private readonly file: string,
    private readonly logger: Logger,
    private readonly now: () => number,
    private readonly max = MAX_NONCES,
  ) {}

  /** Reads the file on first use (the agent opens nothing before open()); returns the floor it kept. */
  load(): number {
    if (this.nonces !== null) return this.floor;
    this.nonces = new Map();
    if (!existsSync(this.file)) return this.floor;
    try {
      const read = fileSchema.parse(JSON.parse(readFileSync(this.file, 'utf8')));
      this.floor = read.floor;
      for (const [nonce, until] of Object.entries(read.nonces)) this.nonces.set(nonce, until);
    } catch (err) {
      // Kept for a technician; the floor is lost with it, so replays are refused only by expiry until the clock is right.
      const aside = keepAside(this.file, this.now);
      this.logger.warn(
        failure('STATE_UNREADABLE', err, { file: this.file, keptAs: aside }),
        'command nonces unreadable',
      );
    }
    return this.floor;
  }

  /** Whether a command with this nonce ran and has not expired yet. */
  seen(nonce: string): boolean {
    this.load();
    const until = this.nonces!.get(nonce);
    return until !== undefined && until > this.now();
  }

  /**
   * Remembers a nonce until `until` (epoch ms), durably, before its command runs: a crash right
   * after must not let it run twice. A write that fails (a full card) is logged and the nonce kept
   * in memory: replays are still refused until a restart.
   */
  remember(nonce: string, until: number): void {
    this.load();
    const now = this.now();
    this.floor = Math.max(this.floor, now);
    for (const [n, u] of this.nonces!) if (u <= now) this.nonces!.delete(n);
    if (this.nonces!.size >= this.max) {
      const next = Math.min(...this.nonces!.values());
      throw new GatewayError(
        'RATE_LIMITED',
        `${this.max} signed commands are still within their expiry: the next is taken in ${Math.ceil((next - now) / 1000)} s (sign with shorter expiries)`,
      );
    }
    this.nonces!.set(nonce, until);
    try {
      writeFileDurably(
        this.file,
        JSON.stringify({ v: 1, floor: this.floor, nonces: Object.fromEntries(this.nonces!) }),
      );
    } catch (err) {
      this.logger.error(failure('STATE_NOT_SAVED', err, { file: this.file }), 'command nonce not saved');
    }
  }
}
