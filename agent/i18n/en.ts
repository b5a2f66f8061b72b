/**
 * The gateway's own texts in English, the default: the alarm SMS it writes and what `status`
 * prints. One place for them; zh-CN.ts has every key of this one (its type says so, and
 * test/agent/i18n.test.ts checks it). A text with values is a function of them.
 */
export const en = {
  /** Time spans, as `status` shows them: "12 s", "5 min", "3 h", "2 d". */
  units: {
    s: (n: number) => `${n} s`,
    min: (n: number) => `${n} min`,
    h: (n: number) => `${n} h`,
    d: (n: number) => `${n} d`,
  },
  sms: {
    /**
     * An alert: `village: message (device, hh:mm)`. No brackets: `[` and `]` are not in the GSM
     * alphabet's basic table, so one of them sent every English alert as UCS2 (70 characters a
     * part instead of 160, a long alert in three SMS instead of one).
     */
    alert: (v: { place: string; message: string; device: string; time: string }) =>
      `${v.place}: ${v.message} (${v.device}, ${v.time})`,
    /** The alert of a press no rule raised one for (its SMS reads `village: <this> (device, hh:mm)`). */
    pressNoRule: 'alarm button pressed',
    /** The data folder is lost: events cannot be kept, local alarms still work. */
    storageFailed: (v: { place: string; reason: string }) =>
      `${v.place}: data storage failed, events are not kept (${v.reason}). Local alarms still work.`,
  },
  status: {
    /** The row labels (9 columns, the values after them). */
    label: {
      agent: 'agent',
      updated: 'updated',
      health: 'health',
      storage: 'storage',
      link: 'link',
      county: 'county',
      backlog: 'backlog',
      oldest: 'oldest',
      alarms: 'alarms',
      sms: 'sms',
      smsHour: 'sms/hour',
      lost: 'lost',
      flows: 'flows',
      devices: 'devices',
      push: 'push',
    },
    noGateway: 'village-gateway',
    agent: {
      running: 'running',
      stopping: 'STOPPING',
      notResponding: 'NOT RESPONDING',
      notRunning: 'NOT RUNNING',
      neverRan: 'NEVER RAN with this data',
      pid: (pid: number) => `, pid ${pid}`,
    },
    ago: (span: string) => `${span} ago`,
    never: 'never',
    fromThatUpdate: '(what follows is from that update)',
    healthBad: (why: string) => `BAD: ${why}`,
    storageLost: (why: string) => `LOST: ${why}`,
    linkUp: 'up',
    linkDown: 'DOWN',
    linkDownFor: (span: string) => `DOWN for ${span}`,
    heard: (since: string) => `heard ${since}`,
    waiting: (n: number) => `${n} waiting`,
    fromOutbox: (text: string) => `${text} (outbox)`,
    byPriority: (c: { critical: number; high: number; normal: number; low: number }) =>
      `crit ${c.critical} high ${c.high} norm ${c.normal} low ${c.low}`,
    old: (span: string) => `${span} old`,
    unknown: 'unknown',
    noneActive: 'none active',
    active: (n: number) => `${n} ACTIVE`,
    smsWaiting: (n: number) => `${n} waiting`,
    alarmsSms: (used: number, left: number) => `alarms ${used} sent, ${left} left`,
    flowsSms: (used: number, share: number, kept: number) => `flows ${used} of ${share}, ${kept} kept`,
    lost: (n: number) => `${n} ALARMS NOT STORED`,
    lostLast: (since: string, seqs: string) => `last ${since}, seq ${seqs}`,
    nodesOff: (n: number, types: string) => `${n} NODES OFF: ${types}`,
    /** A county config push being judged (agent/push/): its hash and the window left. */
    pushProbation: (hash: string) => `${hash} on probation`,
    pushLeft: (left: string, since: string) => `${left} left (pushed ${since})`,
    pushRolledBack: (hash: string) => `${hash} ROLLED BACK`,
    pushSince: (since: string) => `since ${since}`,
    /** A flows push (flows.apply) names its flow file's revision so. */
    pushedFlows: (revision: string) => `flows ${revision}`,
    inFlows: (flows: string) => `in ${flows}`,
    online: (online: number, total: number) => `${online} of ${total} online`,
    deviceOk: 'ok',
    deviceDown: 'DOWN',
    errors: (n: number) => `${n}err`,
  },
};

/** What every language's catalogue holds: the English one's keys, and its texts' values. */
export type Texts = typeof en;
