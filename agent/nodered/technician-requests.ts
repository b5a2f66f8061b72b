/**
 * Requests from a technician on site to the running agent, as files in
 * `dataDir/node-red/requests/` (written by `village-gateway editor ...`, agent/cli-editor.ts):
 * one empty file per request kind, taken (deleted, then carried out) by the supervisor every
 * 2 s and once before the child's first start. Files rather than a signal or a socket: the
 * CLI needs nothing from the running agent but the data folder, a request made while the agent
 * is stopped is carried out at its next start, and asking twice is asking once. The CLI runs
 * as root (sudo) while the agent runs as `village-gateway`: it gives the folder and the files
 * the data folder's owner, so the agent can delete them.
 */
import { chownSync, mkdirSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { foreignCode, failure } from '../../core/kernel/errors.js';

export const REQUEST_KINDS = ['unlock', 'safe-mode-off', 'password'] as const;
export type TechnicianRequest = (typeof REQUEST_KINDS)[number];

export const POLL_MS = 2000;

export const requestsDir = (dataDir: string): string => join(dataDir, 'editor', 'requests');

/** Gives a path the data folder's owner when we run as root (a technician's sudo). */
export function ownLikeDataDir(dataDir: string, path: string): void {
  if (process.getuid?.() !== 0) return;
  const { uid, gid } = statSync(dataDir);
  chownSync(path, uid, gid);
}

/** Files a request (the CLI's side); returns the file. */
export function fileRequest(dataDir: string, kind: TechnicianRequest): string {
  const dir = requestsDir(dataDir);
  mkdirSync(dir, { recursive: true });
  ownLikeDataDir(dataDir, join(dataDir, 'editor'));
  ownLikeDataDir(dataDir, dir);
  const file = join(dir, kind);
  writeFileSync(file, '');
  ownLikeDataDir(dataDir, file);
  return file;
}

/** The agent's side: takes each filed request and hands it to its handler. */
export class RequestInbox {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly dataDir: string,
    private readonly handlers: Record<TechnicianRequest, () => void>,
    private readonly logger: Logger,
  ) {}

  /** Takes what is filed now, then polls every POLL_MS until stop(). */
  start(): void {
    this.poll();
    this.timer ??= setInterval(() => this.poll(), POLL_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  poll(): void {
    let names: string[];
    try {
      names = readdirSync(requestsDir(this.dataDir));
    } catch (err) {
      if (foreignCode(err) !== 'ENOENT')
        this.logger.warn(failure('TECHNICIAN_REQUEST_FAILED', err), 'technician requests unreadable');
      return;
    }
    for (const name of names) {
      try {
        // Deleted first: a request that fails is not retried every 2 s forever.
        unlinkSync(join(requestsDir(this.dataDir), name));
      } catch (err) {
        this.logger.warn(
          failure('TECHNICIAN_REQUEST_FAILED', err, { request: name }),
          'technician request not taken (cannot delete it)',
        );
        continue;
      }
      const kind = REQUEST_KINDS.find((k) => k === name);
      if (!kind) {
        this.logger.warn(
          failure('TECHNICIAN_REQUEST_FAILED', null, { request: name.slice(0, 64) }),
          'unknown technician request: ignored',
        );
        continue;
      }
      this.logger.info({ request: kind }, 'technician request from the command line');
      try {
        this.handlers[kind]();
      } catch (err) {
        this.logger.error(failure('TECHNICIAN_REQUEST_FAILED', err, { request: kind }), 'technician request failed');
      }
    }
  }
}
