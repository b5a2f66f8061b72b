/** Reading a modem's answers: signal quality (AT+CSQ) and network registration (+CREG/+CEREG). */

/**
 * 27.007: rssi 0 is <= -113 dBm, 2..30 are -109..-53 (-113 + 2*rssi), 31 is >= -51, 99 unknown.
 * SIM800's manual prints a 2 dB lower scale (0 = -115); its profile says `csq: sim800`.
 */
export function csqToDbm(rssi: number, scale: '27.007' | 'sim800' = '27.007'): number | null {
  if (!Number.isInteger(rssi) || rssi < 0 || rssi > 31) return null;
  const offset = scale === 'sim800' ? -115 : -113;
  return offset + 2 * rssi;
}

export function parseCsq(lines: string[]): { rssi: number; ber: number } | null {
  for (const l of lines) {
    const m = /^\+CSQ:\s*(\d+),(\d+)/.exec(l);
    if (m) return { rssi: Number(m[1]), ber: Number(m[2]) };
  }
  return null;
}

export const REGISTRATION = [
  'not registered',
  'home',
  'searching',
  'denied',
  'unknown',
  'roaming',
  'home (SMS only)',
  'roaming (SMS only)',
  'emergency only',
] as const;

/** `+CREG: <n>,<stat>[,...]` (or CGREG/CEREG): the registration state. */
export function parseRegistration(
  lines: string[],
  kind: 'CREG' | 'CGREG' | 'CEREG',
): { stat: number; state: string; registered: boolean } | null {
  const re = new RegExp(`^\\+${kind}:\\s*\\d+,(\\d+)`);
  for (const l of lines) {
    const m = re.exec(l);
    if (m) {
      const stat = Number(m[1]);
      return {
        stat,
        state: REGISTRATION[stat] ?? `stat ${stat}`,
        registered: stat === 1 || stat === 5 || stat === 6 || stat === 7,
      };
    }
  }
  return null;
}

/** +CMS ERROR codes a technician will meet (27.005 and the network's RP causes 1-127). */
const CMS: Record<number, string> = {
  1: 'unassigned number',
  8: 'operator barred',
  10: 'call barred',
  21: 'short message transfer rejected',
  27: 'destination out of service',
  38: 'network out of order',
  41: 'temporary failure',
  42: 'congestion',
  300: 'ME failure',
  301: 'SMS service of ME reserved',
  302: 'operation not allowed',
  303: 'operation not supported',
  304: 'invalid PDU mode parameter',
  305: 'invalid text mode parameter',
  310: 'SIM not inserted',
  311: 'SIM PIN required',
  313: 'SIM failure',
  314: 'SIM busy',
  321: 'invalid memory index',
  322: 'SIM memory full',
  330: 'SMSC address unknown',
  331: 'no network service',
  332: 'network timeout',
  500: 'unknown error',
};

export function cmsErrorText(code: number): string {
  return CMS[code] ?? (code >= 1 && code <= 127 ? `network cause ${code}` : `error ${code}`);
}

/** Errors worth a retry later (network, SIM busy), as opposed to a wrong number or a missing SIM. */
export const cmsRetryable = (code: number): boolean => [38, 41, 42, 300, 314, 331, 332, 500].includes(code);
