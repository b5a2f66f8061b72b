/** The event catalogue: the factory holds producers to it, the bus delivers by type, producers match it. */
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { EventInput, GatewayEvent } from '../../core/contracts/event.js';
import {
  EVENT_CATALOGUE,
  EVENT_TYPES,
  eventSpec,
  profileEventType,
  profileMayDeclare,
  type EventOf,
} from '../../core/contracts/events/catalogue.js';
import { EventBus } from '../../agent/event-bus.js';
import { EventFactory } from '../../agent/event-factory.js';
import { SeqCounter } from '../../agent/seq-counter.js';
import { readdirSync, readFileSync } from 'node:fs';
import { EVENT_DATA_SCHEMAS, schemaFiles } from '../../config/json-schemas.js';
import { BUILTIN_PROFILES, requireProfile } from '../../config/load-profile.js';
import { profileSchema } from '../../config/schema/profile.js';
import { formatProblem, problemsFromZod } from '../../config/zod-problems.js';
import { inputRoleSchema } from '../../config/schema/devices.js';
import { TABLE_END, TABLE_START } from '../../scripts/readme-event-table.js';
import { readPage, tableRows } from '../helpers/doc-tables.js';
import { InputTracker } from '../../drivers/input-roles.js';
import { FakeClock } from '../helpers/events.js';
import { serialPipeline } from '../helpers/serial-pipeline.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();
const factory = () => new EventFactory('gw', SeqCounter.open(join(tempDir(), 'seq.json')), new FakeClock());
/**
 * What the factory reports about an input's payload: null when it matches, else the problems.
 * An alarm-class event is made all the same, flagged payloadInvalid; any other is refused
 * (PAYLOAD_INVALID) without spending a seq.
 */
const payloadProblem = (input: EventInput): string | null => {
  const reported: string[] = [];
  const f = new EventFactory('gw', SeqCounter.open(join(tempDir(), 'seq.json')), new FakeClock(), {
    invalid: (type, _d, p, kept) =>
      void reported.push(`invalid ${type} event (${kept ? 'kept' : 'refused'}): ${p.join('; ')}`),
    refused: (type, _d, why) => void reported.push(`refused ${type} event: ${why}`),
  });
  try {
    const event = f.create(input);
    expect(event).toMatchObject({ type: input.type, deviceId: input.deviceId, data: input.data ?? {} });
    expect(event.payloadInvalid).toBe(reported.length > 0 ? true : undefined);
  } catch (err) {
    expect(err).toMatchObject({ code: 'PAYLOAD_INVALID' });
    expect(reported[0]).toMatch(/\(refused\)/);
    expect(f.nextSeq).toBe(1);
  }
  return reported[0] ?? null;
};

describe('the event factory checks payloads against the catalogue', () => {
  it('refuses a catalogued type with a wrong payload, naming the path, but keeps an alarm-class one, flagged (an alarm is never dropped over a field)', () => {
    const bad = (input: unknown) => payloadProblem(input as EventInput);
    expect(bad({ deviceId: 'gw', type: 'gateway.storage_restored', priority: 'high', data: { was: 5 } })).toBe(
      'invalid gateway.storage_restored event (refused): data.was: must be string, received number',
    );
    expect(
      bad({
        deviceId: 'gw',
        type: 'sms.sent',
        priority: 'high',
        data: { to: '+4912345', alertId: null, reason: 'r', attempts: 0, references: [], encoding: 'gsm' },
      }),
    ).toMatch(/\(refused\): .*data\.parts: required/);
    expect(
      bad({
        deviceId: 'gw',
        type: 'alert.raised',
        priority: 'critical',
        data: { rule: 'r', message: 'm', reason: 'x', causes: [{ id: 1, type: 'alarm.pressed', deviceId: 'b' }] },
      }),
    ).toMatch(/\(kept\): .*data\.causes\[0\]\.id: must be string/);
    expect(
      bad({
        deviceId: 'b',
        type: 'alarm.pressed',
        priority: 'critical',
        data: { input: 'di1', active: true, ledOutput: 'do1' },
      }),
    ).toMatch(/\(kept\): .*data\.ledOutput: unknown key/);
    expect(bad({ deviceId: 'b', type: 'alarm.pressed', priority: 'critical', data: {} })).toMatch(
      /^invalid alarm\.pressed event \(kept\): data\./,
    );
    expect(
      bad({ deviceId: 'b', type: 'alarm.pressed', priority: 'critical', data: { input: 'di1', active: true } }),
    ).toBeNull();
  });

  it('refuses only an envelope it cannot build', () => {
    const f = factory();
    expect(() => f.create({ deviceId: '', type: profileEventType('x.y'), priority: 'high' })).toThrow(
      expect.objectContaining({ code: 'EVENT_INVALID' }),
    );
    expect(f.nextSeq).toBe(1); // nothing refused used up a seq
  });

  it('takes a type a profile defines with any object payload, and a catalogued type from a radio receiver', () => {
    expect(
      payloadProblem({
        deviceId: 'rx',
        type: profileEventType('motion.detected'),
        priority: 'high',
        data: { code: 'A1B2CA', key: 10, line: 'rx', nested: { any: ['json'] } },
      }),
    ).toBeNull();
    expect(payloadProblem({ deviceId: 'rx', type: profileEventType('sensor.signal'), priority: 'normal' })).toBeNull();
    // A radio remote's press: the profile's decoded fields, not a wired input's.
    expect(
      payloadProblem({
        deviceId: 'gate-remote',
        type: profileEventType('alarm.pressed'),
        priority: 'critical',
        data: { model: 'Generic-Remote', id: 5069, cmd: 3, line: 'rx', role: 'alarm-button' },
      }),
    ).toBeNull();
    expect(
      payloadProblem({
        deviceId: 'rx',
        type: profileEventType('gateway.started'),
        priority: 'high',
        data: { line: 'rx' },
      }),
    ).toMatch(/^invalid gateway\.started event/);
  });

  it('keeps the payload as the producer wrote it (a copy, keys in their order)', () => {
    const data = { device: 'io-1', unitId: 2, input: 'di3', active: true, led: 'do3', initial: true } as const;
    const e = factory().create({ deviceId: 'io-1.di3', type: 'alarm.pressed', priority: 'critical', data });
    expect(JSON.stringify(e.data)).toBe(JSON.stringify(data));
    expect(e.data).not.toBe(data);
  });
});

describe("the bus's on(type)", () => {
  it('delivers only that type, typed; a throwing handler is logged and the others still run; unsubscribe stops it', () => {
    const bus = new EventBus(pino({ level: 'silent' }));
    const f = factory();
    const pressed: EventOf<'alarm.pressed'>[] = [];
    const all: string[] = [];
    bus.on('door.opened', () => {
      throw new Error('a bad consumer');
    });
    const off = bus.on('alarm.pressed', (e) => pressed.push(e));
    bus.subscribe((e) => all.push(e.type));
    const publish = (input: EventInput): GatewayEvent => {
      const e = f.create(input);
      bus.publish(e);
      return e;
    };
    publish({ deviceId: 'door', type: 'door.opened', priority: 'high', data: { input: 'di1', active: true } });
    const press = publish({
      deviceId: 'btn',
      type: 'alarm.pressed',
      priority: 'critical',
      data: { device: 'io-1', input: 'di2', active: true, led: 'do2' },
    });
    publish({ deviceId: 'btn', type: 'alarm.released', priority: 'normal', data: { input: 'di2', active: false } });
    expect(pressed.map((e) => e.id)).toEqual([press.id]);
    const data = pressed[0]!.data;
    expect('line' in data ? null : data.led).toBe('do2'); // typed: a wired button's payload has `led`
    expect(all).toEqual(['door.opened', 'alarm.pressed', 'alarm.released']);
    expect(bus.errors).toBe(1);
    off();
    publish({ deviceId: 'btn', type: 'alarm.pressed', priority: 'critical', data: { input: 'di2', active: true } });
    expect(pressed).toHaveLength(1);
  });
});

describe('producers match the catalogue (fails when a payload drifts)', () => {
  const check = (events: EventInput[]) => {
    for (const e of events) expect(payloadProblem(e), `${e.type} ${JSON.stringify(e.data)}`).toBeNull();
  };

  it('wired inputs: every role, every edge, at the catalogue default priority', () => {
    const roles = [
      { role: 'door' },
      { role: 'alarm-button', led: 'do1' },
      { role: 'alarm-button' },
      { role: 'camera-alarm', event: 'camera.motion', snapshotUrl: 'http://192.0.2.10/snap.jpg' },
      { role: 'camera-alarm', event: 'camera.tamper' },
      { role: 'camera-alarm', event: 'camera.video_lost' },
      { role: 'input' },
      { role: 'ack-key' },
    ];
    const events: EventInput[] = [];
    for (const role of roles) {
      for (const startActive of [false, true]) {
        const t = new InputTracker('board-1', 'di1', inputRoleSchema.parse({ ...role, debounceMs: 0 }), {
          device: 'board-1',
          unitId: 1,
        });
        events.push(...t.sample(startActive, 0), ...t.sample(!startActive, 10), ...t.sample(startActive, 20));
      }
    }
    check(events);
    for (const e of events) expect(e.priority, e.type).toBe(eventSpec(e.type)!.priority);
    const inputTypes = [
      'door.opened',
      'door.closed',
      'alarm.pressed',
      'alarm.released',
      'alarm.ack_key',
      'input.changed',
      'camera.motion',
      'camera.motion_ended',
      'camera.tamper',
      'camera.tamper_ended',
      'camera.video_lost',
      'camera.video_lost_ended',
    ];
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(inputTypes));
  });

  it('serial receivers: the built-in profiles on their fixtures', () => {
    const fd = serialPipeline('rf433-uart-decoder-fd-df', {
      A1B2C: { id: 'storehouse-door', role: 'door' },
      '5D00F': { id: 'home-7-remote', role: 'alarm-button' },
    });
    for (const hex of [
      'FDA1B2CEDF',
      'FDA1B2C7DF',
      'FD5D00F1DF',
      'FD12345EDF',
      'FDA1B2CBDF',
      'FDA1B2CFDF',
      'FDA1B2CADF',
      'FDA1B2C1DF',
    ])
      fd.push(Buffer.from(hex, 'hex'), fd.events.length * 1000);
    const rflink = serialPipeline('rflink-ev1527-line', {
      '295FD59': { id: 'gate', role: 'door' },
      '1234567': { id: 'panic', role: 'alarm-button' },
    });
    rflink.push(
      '20;45;EV1527;ID=295FD59;SWITCH=3;CMD=ON;\r\n20;46;EV1527;ID=295FD59;SWITCH=3;CMD=OFF;\r\n20;47;EV1527;ID=1234567;SWITCH=1;CMD=ON;\r\n20;48;EV1527;ID=ABCDEF1;SWITCH=1;CMD=ON;\r\n',
    );
    const rtl = serialPipeline('rtl433-json', {
      '840811': { id: 'hall-pir', role: 'motion' },
      '5069': { id: 'gate-remote', role: 'alarm-button' },
    });
    rtl.push(
      '{"model":"Kerui-Security","id":840811,"cmd":10,"motion":1,"state":"motion"}\n{"model":"Generic-Remote","id":5069,"cmd":3,"tristate":"0Z01101Z0001"}\n{"model":"Kerui-Security","id":840811,"cmd":14,"state":"open"}\n',
    );
    const events = [...fd.events, ...rflink.events, ...rtl.events];
    expect(new Set(events.map((e) => e.type))).toEqual(
      new Set([
        'door.opened',
        'door.closed',
        'alarm.pressed',
        'sensor.unknown',
        'sensor.tamper',
        'sensor.battery_low',
        'motion.detected',
        'sensor.signal',
      ]),
    );
    check(events);
  });

  it('every type a built-in profile declares is one a profile may declare', () => {
    const folder = BUILTIN_PROFILES;
    const serial = readdirSync(folder)
      .map((f) => f.replace(/\.yaml$/, ''))
      .filter((id) => /^transport: serial$/m.test(readFileSync(join(folder, `${id}.yaml`), 'utf8')));
    expect(serial.length).toBeGreaterThanOrEqual(4);
    for (const id of serial) {
      for (const r of requireProfile(id, 'serial').events)
        expect(profileMayDeclare(r.type), `${id}: ${r.type}`).toBe(true);
    }
    expect(profileMayDeclare('gateway.started')).toBe(false);
    expect(profileMayDeclare('alarm.ack_key')).toBe(true); // a 433 MHz key fob as the technician's key switch
    expect(profileMayDeclare('sms.sent')).toBe(false);
    expect(profileMayDeclare('motion.detected')).toBe(true);
  });

  it('a profile that maps records to a gateway event of our own is refused', () => {
    const rflink = requireProfile('rflink-ev1527-line', 'serial');
    expect(profileSchema.safeParse(rflink).success).toBe(true);
    const bad = profileSchema.safeParse({
      ...rflink,
      events: [...rflink.events, { when: {}, type: 'gateway.started', priority: 'high' }],
    });
    expect(bad.success).toBe(false);
    expect(problemsFromZod(bad.error!).map(formatProblem)).toEqual([
      `events[${rflink.events.length}].type: is an event type of the gateway's own whose payload a receiver cannot produce (see core/contracts/events/)`,
    ]);
  });

  it("the envelope's JSON Schema holds data to each type's schema, by $id", () => {
    const files = schemaFiles();
    const envelope = JSON.parse(files['config/schemas/event.schema.json']!) as {
      allOf: { if: { properties: { type: { const: string } } }; then: { properties: { data: { $ref: string } } } }[];
    };
    expect(envelope.allOf.map((c) => c.if.properties.type.const)).toEqual(EVENT_TYPES);
    for (const c of envelope.allOf) {
      const own = JSON.parse(files[`${EVENT_DATA_SCHEMAS}/${c.if.properties.type.const}.schema.json`]!) as {
        $id: string;
      };
      expect(c.then.properties.data.$ref).toBe(own.$id);
    }
  });

  it("docs/county.md's event table is the catalogue's: every type at its default priority with its summary, none it does not know (run `npm run schemas` when this fails)", () => {
    const page = readPage('docs/county.md');
    expect(page.indexOf(TABLE_START)).toBeGreaterThan(0);
    const rows = tableRows(page.slice(page.indexOf(TABLE_START), page.indexOf(TABLE_END))).slice(1);
    expect(rows).toEqual(EVENT_TYPES.map((t) => [`\`${t}\``, EVENT_CATALOGUE[t].priority, EVENT_CATALOGUE[t].summary]));
  });

  it('every catalogued type is dotted lower-case and has a summary for the event table in docs/county.md', () => {
    for (const t of EVENT_TYPES) {
      expect(t).toMatch(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/);
      expect(EVENT_CATALOGUE[t].summary.length).toBeGreaterThan(10);
    }
  });
});
