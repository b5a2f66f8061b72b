/** village-link, the in-child singleton our nodes talk to the agent through: ids, timeouts, attach and detach. */
import { describe, expect, it } from 'vitest';
import { FakeAgent, link, type Ev, type LinkError } from '../helpers/village-link-fake.js';

describe('village-link', () => {
  it('a request nobody answers fails with TIMEOUT; a late reply is ignored', async () => {
    const l = new link.VillageLink({ timeoutMs: 100 });
    const silent = new FakeAgent();
    silent.answer = () => null;
    l.attach(silent);
    const t0 = Date.now();
    const err = (await l.request('status', {}).catch((e: unknown) => e)) as LinkError;
    expect(err.code).toBe('TIMEOUT');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    const id = silent.requests[0]!.id;
    l.receive({ t: 'reply', id, ok: true, result: 'late' });
    expect(l.stats.lateReplies).toBe(1);
  });

  it('before attach: NOT_CONNECTED at once, and a detach fails what is waiting', async () => {
    const l = new link.VillageLink({ timeoutMs: 5000 });
    expect(((await l.request('status').catch((e: unknown) => e)) as LinkError).code).toBe('NOT_CONNECTED');
    const silent = new FakeAgent();
    silent.answer = () => null;
    l.attach(silent);
    const waiting = l.request('alert', { message: 'x' }).catch((e: unknown) => e);
    l.detach();
    expect(((await waiting) as LinkError).code).toBe('NOT_CONNECTED');
  });

  it('replies are matched by id, whatever their order; an error without a code is FAILED', async () => {
    const l = new link.VillageLink();
    const a = new FakeAgent();
    a.answer = () => null;
    l.attach(a);
    const p1 = l.request('status', {});
    const p2 = l.request('output', { device: 'd', output: 'o', action: 'on' }).catch((e: unknown) => e);
    const [r1, r2] = a.requests;
    l.receive({ t: 'reply', id: r2!.id, ok: false, error: { message: 'nope' } });
    l.receive({ t: 'reply', id: r1!.id, ok: true, result: { ok: 1 } });
    expect(await p1).toEqual({ ok: 1 });
    expect(((await p2) as LinkError).code).toBe('FAILED');
  });

  it('one listener that throws does not keep the event from the others', () => {
    const l = new link.VillageLink();
    const a = new FakeAgent();
    l.attach(a);
    const seen: string[] = [];
    l.onEvent(() => {
      throw new Error('bad node');
    });
    l.onEvent((e) => seen.push((e as Ev).type));
    a.push({ deviceId: 'd1', type: 'door.opened' });
    expect(seen).toEqual(['door.opened']);
    expect(l.stats.listenerErrors).toBe(1);
  });
});
