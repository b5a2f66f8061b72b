/**
 * ONVIF notification messages (a PullMessagesResponse) to vendor events for the mapper. The
 * topic is matched without its namespace prefixes (`tns1:RuleEngine/CellMotionDetector/Motion`
 * and `tns1:Device/tns1:Trigger/...` alike; trailing `//.` junk dropped) against the profile's
 * events; the profile's `item` names the Data SimpleItem that carries the state ("true" is on).
 * `PropertyOperation="Initialized"` marks the state at subscribe: `initial`, never an alarm.
 */
import type { CameraProfile } from '../../config/schema/profile.js';
import type { Decoded } from './camera-event.js';
import { textOf, type Xml } from './onvif-soap.js';

type Rule = CameraProfile['events'][string];

/** `tns1:RuleEngine/tns1:LineDetector/Crossed//.` -> `RuleEngine/LineDetector/Crossed`. */
export function topicCode(topic: string): string {
  return topic
    .trim()
    .replace(/[/.]+$/, '')
    .split('/')
    .filter((seg) => seg !== '')
    .map((seg) => seg.slice(seg.indexOf(':') + 1))
    .join('/');
}

const ON = /^(true|1|active|on)$/i;

interface Item {
  name: string;
  value: string;
}

function items(v: unknown): Item[] {
  const list = ((v as Xml | undefined)?.SimpleItem ?? []) as Xml[];
  return list
    .map((i) => ({ name: String(i['@Name'] ?? ''), value: String(i['@Value'] ?? '') }))
    .filter((i) => i.name !== '');
}

export interface PullAnswer {
  /** The camera's CurrentTime and TerminationTime, as it wrote them (its clock: only their difference is used). */
  currentTime: string | null;
  terminationTime: string | null;
  decoded: Decoded[];
}

export function decodePull(body: Xml, rules: ReadonlyMap<string, Rule>): PullAnswer {
  const res = (body.PullMessagesResponse ?? {}) as Xml;
  const decoded = ((res.NotificationMessage ?? []) as Xml[]).map((m) => decodeOne(m, rules));
  return { currentTime: textOf(res.CurrentTime), terminationTime: textOf(res.TerminationTime), decoded };
}

function decodeOne(note: Xml, rules: ReadonlyMap<string, Rule>): Decoded {
  const topic = textOf(note.Topic);
  const message = ((note.Message as Xml | undefined)?.Message ?? null) as Xml | null;
  if (!topic || !message) return { kind: 'ignored', why: 'a notification with no topic or message', hostile: true };
  const code = topicCode(topic);
  const rule = rules.get(code.toLowerCase());
  const operation = String(message['@PropertyOperation'] ?? '');
  if (operation === 'Deleted') return { kind: 'ignored', why: 'a property deleted' };
  const data = items(message.Data);
  const source = items(message.Source);
  const carrier = rule?.item ? data.find((i) => i.name === rule.item) : data[0];
  // A state with its item missing is not read as "on": it would stay on until the state timeout.
  if (rule?.item && !carrier) return { kind: 'ignored', why: `${code} without its ${rule.item} item` };
  const on = carrier ? ON.test(carrier.value) : true; // a pulse may come with no data
  if (rule?.kind === 'pulse' && !on) return { kind: 'ignored', why: 'a pulse topic saying false' };
  const region = source.find((i) => /^(Rule|RuleName|InputToken|Name)$/.test(i.name))?.value ?? null;
  const at = message['@UtcTime'];
  return {
    kind: 'event',
    code,
    state: rule?.kind === 'pulse' ? 'pulse' : on ? 'start' : 'stop',
    channel: null, // ONVIF names sources by token, not channel number
    region,
    cameraTime: typeof at === 'string' && at !== '' ? at : null,
    ...(operation === 'Initialized' ? { initial: true as const } : {}),
  };
}
