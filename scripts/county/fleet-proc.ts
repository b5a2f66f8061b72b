/**
 * What a process costs, read from /proc (Linux): CPU seconds (user + system, from
 * /proc/<pid>/stat), resident memory now and at its peak (VmRSS, VmHWM in /proc/<pid>/status),
 * and its open-file limit (/proc/<pid>/limits): every MQTT connection is a file descriptor on
 * both ends, so 500 gateways need 500 on the broker and, in a fleet run, 500 here.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcSample {
  cpuSec: number;
  rssMb: number;
  peakRssMb: number;
}

let ticks: number | null = null;

/** Clock ticks a second (USER_HZ), the unit of /proc/<pid>/stat's times. */
function clockTicks(): number {
  if (ticks === null) {
    const r = spawnSync('getconf', ['CLK_TCK']);
    const n = Number(r.stdout?.toString().trim());
    ticks = r.status === 0 && n > 0 ? n : 100;
  }
  return ticks;
}

export function procSample(pid: number | 'self'): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields from after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSec = (Number(fields[11]) + Number(fields[12])) / clockTicks(); // utime, stime: fields 14 and 15
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { cpuSec, rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
}

/** The soft limit on open files (`ulimit -n`) of a process; Infinity when unlimited. */
export function openFileLimit(pid: number | 'self'): number {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const soft = /^Max open files\s+(\S+)/m.exec(limits)?.[1];
  return soft === undefined || soft === 'unlimited' ? Infinity : Number(soft);
}

/**
 * Throws, naming the fix, when a process cannot hold `sockets` more descriptors (plus a margin
 * for its own files): past the limit connections fail with EMFILE, which looks like a broker fault.
 */
export function checkOpenFiles(pid: number | 'self', who: string, sockets: number): void {
  const limit = openFileLimit(pid);
  const need = sockets + 64;
  if (limit < need)
    throw new Error(
      `${who} may open ${limit} files but needs about ${need} for ${sockets} connections: raise it ` +
        `(\`ulimit -n ${Math.max(4096, need)}\` in its shell, LimitNOFILE= in its systemd unit)`,
    );
}
