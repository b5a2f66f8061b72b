/** `outbox.groupCommitMs` (issue 21): telemetry may wait up to 2 s for its group, no longer. */
import { describe, expect, it } from 'vitest';
import { gatewayConfigSchema } from '../../config/schema/gateway-config.js';
import { outboxConfig } from '../helpers/agent-config.js';

const withGroup = (groupCommitMs: number) =>
  gatewayConfigSchema.safeParse({
    version: 1,
    gateway: { id: 'gw' },
    dataDir: '/x',
    mqtt: { url: 'mqtt://h' },
    outbox: { groupCommitMs },
  });

describe('outbox.groupCommitMs', () => {
  it('is 25 ms unless set, takes up to 2000, and refuses more by its path', () => {
    expect(outboxConfig().groupCommitMs).toBe(25);
    expect(outboxConfig({ groupCommitMs: 2000 }).groupCommitMs).toBe(2000);
    const over = withGroup(2001);
    expect(over.success).toBe(false);
    expect(over.error?.issues.map((i) => i.path.join('.'))).toEqual(['outbox.groupCommitMs']);
  });
});
