/** Test lifecycle helpers: a broker per file, and cleanups run after each test (last first). */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startBroker, type TestBroker } from './broker.js';

export function useCleanups(): (fn: () => Promise<unknown> | unknown) => void {
  const list: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const c of list.splice(0).reverse()) await c();
  });
  return (fn) => void list.push(fn);
}

/** One broker for the file's tests; read `.current` inside tests. */
export function useBroker(): { current: TestBroker } {
  const holder = {} as { current: TestBroker };
  beforeAll(async () => {
    holder.current = await startBroker();
  });
  afterAll(async () => holder.current.dispose());
  return holder;
}
