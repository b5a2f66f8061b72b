/** The wait before a camera's next try: the long auth backoff after a refused password, else the link's. */
import { Backoff } from '../../core/kernel/backoff.js';

export class CameraBackoff extends Backoff {
  authRefused = false;
  constructor(
    link: { minMs: number; maxMs: number },
    private readonly auth: Backoff,
  ) {
    super(link.minMs, link.maxMs, 0.2);
  }
  override next(): number {
    return this.authRefused ? this.auth.next() : super.next();
  }
  override reset(): void {
    super.reset();
    this.auth.reset();
  }
}
