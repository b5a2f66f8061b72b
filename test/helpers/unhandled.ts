/**
 * Records uncaught exceptions (an EventEmitter's unhandled 'error' among them) and unhandled
 * rejections while each test runs. vitest reports them too, but for the whole run and not
 * always against the test that caused them; a fault test asserts `errors` is empty so the
 * crash it exposes fails that test, by name.
 */
import { afterEach, beforeEach } from 'vitest';

export function useUnhandled(): { readonly errors: string[] } {
  const seen: string[] = [];
  const onException = (err: unknown) => seen.push(`uncaught: ${describe(err)}`);
  const onRejection = (reason: unknown) => seen.push(`unhandled rejection: ${describe(reason)}`);
  beforeEach(() => {
    seen.length = 0;
    // The monitor only observes: vitest's own handler still sees (and reports) the error.
    process.on('uncaughtExceptionMonitor', onException);
    process.on('unhandledRejection', onRejection);
  });
  afterEach(() => {
    process.off('uncaughtExceptionMonitor', onException);
    process.off('unhandledRejection', onRejection);
  });
  return {
    get errors() {
      return [...seen];
    },
  };
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  // Node wraps a non-Error 'error' event argument (modbus-serial's SerialPortError is a plain object).
  return typeof err === 'object' && err !== null ? JSON.stringify(err) : String(err);
}
