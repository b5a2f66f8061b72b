import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import type { GateCameraSummary } from '../../scripts/demo-gate-camera.js';

const DEMO = fileURLToPath(new URL('../../dist/scripts/demo.js', import.meta.url));
const GATE_JPEG = readFileSync(new URL('../../scripts/simulators/fixtures/gate-night.jpg', import.meta.url));

interface EditorProbe {
  url: string;
  /** GET /flows without a token. */
  anonymous: number;
  /** POST /auth/token with the printed user and one-time password. */
  login: number;
  /** The node types GET /flows lists with that token. */
  types: string[];
}

/** Runs the demo like `npm run demo -- --json`; while it runs, tries its editor as printed. */
function runDemo(): Promise<{ status: number | null; stdout: string; stderr: string; editor: EditorProbe | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DEMO, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const killer = setTimeout(() => child.kill('SIGKILL'), 80_000);
    let stdout = '';
    let stderr = '';
    let probe: Promise<EditorProbe | null> = Promise.resolve(null);
    let probing = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const printed = /Node-RED editor: (http:\/\/\S+) \(user "([^"]+)", one-time password (\S+);/.exec(stdout);
      if (!probing && printed && stdout.includes('>>> Node-RED editor ready')) {
        probing = true;
        probe = probeEditor(printed[1]!, printed[2]!, printed[3]!).catch(() => null);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(killer);
      void probe.then((editor) => resolve({ status, stdout, stderr, editor }));
    });
  });
}

async function probeEditor(url: string, username: string, password: string): Promise<EditorProbe> {
  const anonymous = (await fetch(`${url}flows`)).status;
  const res = await fetch(`${url}auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '*', username, password }),
  });
  const token = res.status === 200 ? ((await res.json()) as { access_token: string }).access_token : '';
  const flows = await fetch(`${url}flows`, { headers: { authorization: `Bearer ${token}` } });
  const types = flows.status === 200 ? ((await flows.json()) as { type: string }[]).map((n) => n.type) : [];
  return { url, anonymous, login: res.status, types };
}

describe('npm run demo', () => {
  it(
    'ends by itself with a JSON summary: everything delivered through an uplink cut',
    { timeout: 90_000 },
    async () => {
      const started = Date.now();
      const r = await runDemo();
      expect(r.status, r.stderr).toBe(0);
      expect(Date.now() - started).toBeLessThan(60_000);
      const lines = r.stdout.trim().split('\n');
      const { check, flows, gateCamera, pictureDir, ...summary } = JSON.parse(lines.at(-1)!) as Record<
        string,
        number
      > & {
        gateCamera: GateCameraSummary;
        pictureDir: string;
        flows: { editorUrl: string; ready: boolean; seen: number; sent: number; dropped: number; restarts: number };
        check: {
          ok: boolean;
          problems: string[];
          boots: { firstSeq: number; lastSeq: number; missing: number }[];
          committed: number;
          undelivered: number;
          pictures: { announced: number; whole: number };
        };
      };
      // The delivery checker's verdict: one boot, every seq from its first on, every committed event delivered.
      expect(check.problems).toEqual([]);
      expect(check.ok).toBe(true);
      expect(check.boots).toEqual([expect.objectContaining({ firstSeq: 1, lastSeq: summary.produced, missing: 0 })]);
      expect(check).toMatchObject({
        committed: summary.produced,
        undelivered: 0,
        pictures: { announced: 1, whole: 1 },
      });
      expect(r.stdout).toMatch(
        /\n {2}check {6}ok: 1 boot, seqs contiguous \(1\.\.\d+\), \d+ committed, 0 undelivered, \d+ duplicates? \(identical\); 1 picture whole \(sha256 ok\)\n/,
      );
      expect(summary.lost).toBe(0);
      expect(summary.produced).toBeGreaterThan(300);
      expect(summary.delivered).toBe(summary.produced);
      expect(summary.largestBacklog).toBeGreaterThan(100); // the cut really buffered events
      expect(summary.reconnects).toBeGreaterThanOrEqual(1);
      expect(summary).toHaveProperty('duplicates');
      // The simulated village on Modbus: every panic press became exactly one alarm.
      expect(summary.presses).toBeGreaterThan(5);
      expect(summary.alarms).toBe(summary.presses);
      expect(summary.doorOpenings).toBeGreaterThan(3);
      // The safety loop: presses sound the siren, the county acknowledges and the LEDs light,
      // and presses during the cut go out by SMS (the simulated modem needs socat, as CI has).
      expect(summary.sirens).toBeGreaterThan(0);
      expect(summary.acks).toBeGreaterThan(0);
      expect(summary.ledsLit).toBeGreaterThan(0);
      expect(summary.sms).toBeGreaterThan(0);
      expect(r.stdout).toContain('cutting the uplink');

      // The technicians' editor ran alongside, on loopback, behind the printed one-time password,
      // with the default flows; the flows saw the village's events.
      expect(r.stdout.indexOf('Node-RED editor: http://127.0.0.1:')).toBeLessThan(r.stdout.indexOf('t= '));
      expect(r.editor).toMatchObject({ url: flows.editorUrl, anonymous: 401, login: 200 });
      expect(r.editor!.types).toEqual(
        expect.arrayContaining(['village in', 'village out', 'village alert', 'village status']),
      );
      expect(flows.ready).toBe(true);
      expect(flows.restarts).toBe(0);
      expect(flows.seen).toBeGreaterThan(summary.produced! / 2);
      expect(flows.seen).toBeLessThanOrEqual(flows.sent);
      // The gate camera's intrusion at night: the alarm, then the picture whole, saved where the demo said.
      expect(gateCamera).toMatchObject({ intrusionAt: '02:13', sha256ok: true, pictureBytes: GATE_JPEG.length });
      expect(gateCamera.snapshots).toBe(1);
      expect(gateCamera.alarmMs).toBeLessThan(5000);
      expect(gateCamera.savedAs!.startsWith(`${pictureDir}/`)).toBe(true);
      expect(readFileSync(gateCamera.savedAs!).equals(GATE_JPEG)).toBe(true);
      rmSync(pictureDir, { recursive: true, force: true });
      expect(r.stdout).toContain(`the county saves its pictures in ${pictureDir}`);
      expect(r.stdout).toMatch(
        /\n {2}gate camera intrusion 02:13 -> county had the alarm in \d+ ms and the picture \(14 KB, sha256 ok\) in \d+(\.\d)? m?s\n/,
      );
      expect(r.stdout).toContain(`\n  picture    saved by the county as ${gateCamera.savedAs}\n`);
      expect(r.stdout).toContain(
        `\n  flows      ${flows.seen} events seen by the Node-RED flows (${flows.sent} sent by the agent, ${flows.dropped} dropped, 0 restarts)\n`,
      );
    },
  );
});
