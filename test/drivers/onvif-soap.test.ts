/** The ONVIF SOAP client's parsing: entities never expanded, a DOCTYPE refused, topics matched without prefixes. */
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { topicCode } from '../../drivers/camera/onvif-messages.js';
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
