/**
 * As root the Node-RED child runs as the flows' user (nobody here). A checkout that user cannot
 * enter (a clone in a 0700 folder) used to make every start time out with nothing in the log
 * saying why: now the start fails at once with one error naming the user, the path and the fix,
 * and the child is retried like any failed start.
 */
import { chmodSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { EventInput } from '../../core/contracts/event.js';
import { defaultChildPath } from '../../agent/nodered/child-files.js';
import { NodeRedSupervisor } from '../../agent/nodered/supervisor.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { testNodeRedConfig } from '../helpers/node-red.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();

describe("the flows' user cannot reach the child's code", () => {
  it.runIf(process.getuid?.() === 0)(
    'as root: the start fails at once with the user, the path and the fix',
    async () => {
      const dir = tempDir();
      chmodSync(dir, 0o755);
      const closed = join(dir, 'clone');
      mkdirSync(closed, { mode: 0o700 }); // a mktemp folder: only root may enter
      const childPath = join(closed, 'child.js');
      symlinkSync(defaultChildPath(), childPath);
      const lines: Record<string, unknown>[] = [];
      const sink = new Writable({
        write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString())), done()),
      });
      const emitted: EventInput[] = [];
      const sup = new NodeRedSupervisor({
        config: { ...testNodeRedConfig(), user: 'no-such-flows-user' },
        dataDir: join(dir, 'data'),
        gatewayId: 'gw-reach',
        logger: pino({ level: 'warn' }, sink),
        flowWritable: new Set(),
        tagsOf: () => [],
        childPath,
        startTimeoutMs: 60_000, // a timeout cannot be what reports it
        ports: {
          onEvent: () => () => {},
          emit: (e) => void emitted.push(e),
          write: async () => {},
          raiseAlert: async () => 'alert-1',
          status: () => ({ ok: true }),
        },
        restart: { minMs: 60_000, maxMs: 60_000 },
      });
      cleanup(() => sup.stop());
      sup.start();
      const said = () => lines.find((l) => String(l['err'] ?? '').includes('cannot read'));
      await waitUntil(() => said() !== undefined, 10_000, 'the start failure logged');
      expect(String(said()!['err'])).toContain(
        `nobody (uid 65534) cannot read ${childPath}: ${closed} is closed to it`,
      );
      expect(String(said()!['err'])).toContain(`chmod o+x ${closed}`);
      expect(sup.describe()).toMatchObject({ state: 'restarting', pid: null });
    },
    30_000,
  );
});
