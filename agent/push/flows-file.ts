/**
 * The Node-RED flow file as the agent reads and writes it for a county push. The file lives in
 * the child's userDir, which belongs to the flows' user (flows-user.ts): a flow can put a symlink
 * there. So the agent (root on a dev box) never follows one: it reads with O_NOFOLLOW (a planted
 * `flows.json -> /etc/shadow` is refused, not sent to the county), writes a fresh temporary file
 * with O_EXCL|O_NOFOLLOW, hands it to the folder's owner (the child must read and deploy over it),
 * and renames it into place (a rename replaces a link, never writes through it). The credentials
 * file (`<name>_cred.json`) is never opened.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchownSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { GatewayError } from '../../core/kernel/errors.js';
import { crashPoints } from '../crash-points.js';

/** The flow file's path, as the child resolves it (flows/runtime/excluded-nodes.ts). */
export const flowFilePath = (dataDir: string, flowFile: string) =>
  isAbsolute(flowFile) ? flowFile : join(dataDir, 'node-red', flowFile);

/** The flow file's bytes, or null when there is none yet; refused when it is a link, not a file, or over `maxBytes`. */
export function readFlowFile(path: string, maxBytes: number): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') return null;
    throw new GatewayError('FLOWS_UNREADABLE', `the flow file ${path} cannot be read (${code ?? String(err)})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new GatewayError('FLOWS_UNREADABLE', `the flow file ${path} is not a regular file`);
    if (st.size > maxBytes)
      throw new GatewayError('FLOWS_TOO_LARGE', `the flow file is ${st.size} bytes, over ${maxBytes}: read it on site`);
    const buf = Buffer.alloc(st.size);
    let at = 0;
    while (at < buf.length) {
      const n = readSync(fd, buf, at, buf.length - at, at);
      if (n === 0) break;
      at += n;
    }
    return buf.subarray(0, at);
  } finally {
    closeSync(fd);
  }
}

/** Writes `data` to `path` durably without following any link, owned by the folder's owner. */
export function writeFlowFile(path: string, data: string): void {
  crashPoints.beforeWrite();
  const dir = dirname(path);
  const owner = lstatSync(dir);
  const tmp = join(dir, `.flows-push-${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, data);
    // The child runs as the folder's owner (the flows' user): it must read the file and deploy over it.
    if (process.getuid?.() === 0) fchownSync(fd, owner.uid, owner.gid);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
  crashPoints.afterWrite();
}
