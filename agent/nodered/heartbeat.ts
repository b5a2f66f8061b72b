/**
 * The verdict at each heartbeat: is the Node-RED child over its memory bound, or silent too
 * long? Its RSS is sampled here, not taken from its pong: a stuck child sends none, and
 * Buffers live outside V8's heap. With launch: systemd there is no pid (another user's
 * process): the unit's MemoryMax bounds it and only the silence is judged.
 */
import { readRssBytes } from './memory-bound.js';

export type HeartbeatVerdict =
  | { kill: null; rssBytes: number | null }
  | { kill: 'memory' | 'heartbeat'; rssBytes: number | null; why: Record<string, number>; msg: string };

export function judgeChild(
  pid: number | null,
  boundBytes: number,
  silentMs: number,
  pongTimeoutMs: number,
): HeartbeatVerdict {
  const rssBytes = pid ? readRssBytes(pid) : null;
  if (rssBytes !== null && rssBytes > boundBytes)
    return { kill: 'memory', rssBytes, why: { rssBytes, boundBytes }, msg: 'Node-RED over its memory bound: killed' };
  if (silentMs > pongTimeoutMs)
    return {
      kill: 'heartbeat',
      rssBytes,
      why: { silentMs: Math.round(silentMs) },
      msg: 'Node-RED stopped answering: killed',
    };
  return { kill: null, rssBytes };
}
