/**
 * The default flows on first start (issue 10): when userDir has no flow file, the shipped
 * flows/flows.json is copied there before Node-RED reads it. A flow file that exists is never
 * touched, whatever it holds: an empty file, `[]` or the technician's own deploy are theirs.
 * The copy is written to a temporary file, synced, and hard-linked into place, so a power cut
 * mid-copy leaves either no flow file (copied again next start) or the whole default, and a
 * file that appeared meanwhile is not replaced (link fails with EEXIST).
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

export type DefaultFlowsOutcome = 'copied' | 'kept' | 'none';

const code = (err: unknown): unknown => (err as { code?: unknown }).code;

/** Copies `source` to `<userDir>/<flowFile>` if that does not exist; says what it did. */
export function installDefaultFlows(userDir: string, flowFile: string, source: string | null): DefaultFlowsOutcome {
  const target = join(userDir, flowFile);
  if (existsSync(target)) return 'kept';
  if (!source) return 'none';
  const body = readFileSync(source);
  mkdirSync(dirname(target), { recursive: true });
  const tmp = `${target}.default-${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, body);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, target);
  } catch (err) {
    if (code(err) === 'EEXIST') return 'kept';
    // A file system without hard links (FAT): rename, which is atomic but would replace, so check first.
    if (existsSync(target)) return 'kept';
    renameSync(tmp, target);
    return 'copied';
  } finally {
    if (existsSync(tmp)) unlinkSync(tmp);
  }
  return 'copied';
}
