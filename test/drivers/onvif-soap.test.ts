/** The ONVIF SOAP client's parsing: entities never expanded, a DOCTYPE refused, topics matched without prefixes. */
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { decodePull, topicCode } from '../../drivers/camera/onvif-messages.js';
import { parseSoap, passwordDigest } from '../../drivers/camera/onvif-soap.js';
import { entityBomb } from '../../scripts/simulators/camera-onvif-soap.js';

describe('ONVIF SOAP parsing', () => {
  it('refuses a billion-laughs answer before parsing, at once', () => {
    const t0 = performance.now();
    expect(() => parseSoap(entityBomb())).toThrow(/DOCTYPE/);
    expect(performance.now() - t0).toBeLessThan(100);
  });

  it('refuses an external entity (no file is read)', () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]><s:Envelope xmlns:s="x"><s:Body>&x;</s:Body></s:Envelope>`;
    expect(() => parseSoap(xxe)).toThrow(/DOCTYPE/);
  });

  it('fast-xml-parser with processEntities off leaves an entity as text (the second line of defence)', () => {
    const p = new XMLParser({ processEntities: false });
    const doc = p.parse('<!DOCTYPE a [<!ENTITY l "lol"><!ENTITY l2 "&l;&l;&l;&l;">]><a>&l2;</a>') as { a: string };
    expect(doc.a).toBe('&l2;');
  });

  it('reads a Body, and says what is not SOAP', () => {
    expect(parseSoap('<s:Envelope xmlns:s="x"><s:Body><r:Ok xmlns:r="y"/></s:Body></s:Envelope>')).toEqual({ Ok: '' });
    expect(() => parseSoap('<html><body>login</body></html>')).toThrow(/not a SOAP envelope/);
  });

  it('matches topics without their prefixes and trailing junk', () => {
    expect(topicCode('tns1:RuleEngine/CellMotionDetector/Motion//.')).toBe('RuleEngine/CellMotionDetector/Motion');
    expect(topicCode('tns1:Device/tns1:Trigger/tnssamsung:DigitalInput')).toBe('Device/Trigger/DigitalInput');
    expect(topicCode('tns1:Device/Trigger/tnshik:AlarmIn/')).toBe('Device/Trigger/AlarmIn');
  });

  it('PasswordDigest is Base64(SHA1(nonce + created + password)) (the WS-Security profile example)', () => {
    // OASIS UsernameToken Profile 1.0, section 4: the same inputs must give the same digest any client computes.
    const nonce = Buffer.from('LKqI6G/AikKCQrN0zqZFlg==', 'base64');
    expect(passwordDigest(nonce, '2010-09-16T07:50:45Z', 'userpassword')).toBe('tuOSpGlFlIXsozq4HFNeeGeFLEI=');
  });
});

describe('ONVIF notification messages', () => {
  const rules = new Map([
    ['ruleengine/cellmotiondetector/motion', { kind: 'state', type: 'camera.motion', alarm: false, item: 'IsMotion' }],
    ['ruleengine/linedetector/crossed', { kind: 'pulse', type: 'camera.line_crossed', alarm: true }],
  ] as const);
  const body = (topic: string, op: string, data: string) =>
    parseSoap(
      `<s:Envelope xmlns:s="x"><s:Body><tev:PullMessagesResponse xmlns:tev="e"><tev:CurrentTime>2026-12-06T00:00:00Z</tev:CurrentTime>` +
        `<wsnt:NotificationMessage xmlns:wsnt="w"><wsnt:Topic Dialect="d">${topic}</wsnt:Topic><wsnt:Message>` +
        `<tt:Message xmlns:tt="t" UtcTime="2026-12-06T00:00:01Z"${op}><tt:Source><tt:SimpleItem Name="Rule" Value="R"/></tt:Source>` +
        `<tt:Data>${data}</tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage></tev:PullMessagesResponse></s:Body></s:Envelope>`,
    );
  const one = (topic: string, op: string, data: string) =>
    decodePull(body(topic, op, data), rules as unknown as Parameters<typeof decodePull>[1]).decoded[0];

  it('reads the named item, Initialized marked, a pulse saying false ignored, a missing item ignored', () => {
    const motion = 'tns1:RuleEngine/CellMotionDetector/Motion';
    expect(one(motion, ' PropertyOperation="Changed"', '<tt:SimpleItem Name="IsMotion" Value="true"/>')).toEqual({
      kind: 'event',
      code: 'RuleEngine/CellMotionDetector/Motion',
      state: 'start',
      channel: null,
      region: 'R',
      cameraTime: '2026-12-06T00:00:01Z',
    });
    expect(
      one(motion, ' PropertyOperation="Initialized"', '<tt:SimpleItem Name="IsMotion" Value="false"/>'),
    ).toMatchObject({ state: 'stop', initial: true });
    expect(one(motion, '', '<tt:SimpleItem Name="Other" Value="true"/>')).toMatchObject({ kind: 'ignored' });
    const line = 'tns1:RuleEngine/LineDetector/Crossed';
    expect(one(line, '', '<tt:SimpleItem Name="State" Value="true"/>')).toMatchObject({ state: 'pulse' });
    expect(one(line, '', '<tt:SimpleItem Name="State" Value="false"/>')).toMatchObject({ kind: 'ignored' });
  });
});
