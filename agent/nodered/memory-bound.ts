/**
 * The bound on everything the Node-RED child holds, not only V8's heap (`--max-old-space-size`
 * = memoryMb): Buffers, sockets' and streams' buffers and native memory count too. The agent
 * reads the child's RSS from /proc/<pid>/status itself at every heartbeat (a stuck child sends
 * no pong) and kills it over the bound. Rule: `nodeRed.memoryBoundMb`, else memoryMb * 1.5 + 64
 * (128 -> 256 MB): Node-RED started is ~105 MB RSS and ~145 MB after 10k messages with its heap
 * well under the limit, so only a child past its own heap limit plus half of it again is cut.
 */
import { readFileSync } from 'node:fs';

const MB = 1024 * 1024;

export function memoryBoundBytes(config: { memoryMb: number; memoryBoundMb?: number | undefined }): number {
  return (config.memoryBoundMb ?? Math.round(config.memoryMb * 1.5 + 64)) * MB;
}

/** VmRSS of a process in bytes, or null when it is gone or unreadable. */
export function readRssBytes(pid: number): number | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : null;
}
