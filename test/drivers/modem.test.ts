/** The GSM modem: encodings and answers on fixtures, then the whole AT dialogue over a pty pair. */
import { describe, expect, it } from 'vitest';
import type { GsmModemDriver } from '../../drivers/modem/gsm-modem-driver.js';
import { cmsErrorText, csqToDbm, parseRegistration } from '../../drivers/modem/modem-status.js';
import { chooseEncoding, splitSms, ucs2Hex } from '../../drivers/modem/sms-encoding.js';
import { ModemSimulator } from '../../scripts/simulators/modem-simulator.js';
import { PtyPair } from '../../scripts/simulators/pty-pair.js';
import { testConfig } from '../helpers/agent-config.js';
import { AgentRig } from '../helpers/modbus-rig.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { waitUntil } from '../helpers/wait.js';
import { startChecked } from '../helpers/delivery.js';

describe('modem encodings and answers', () => {
  it('UCS2 hex as the modem wants it (number included)', () => {
    expect(ucs2Hex('你好吗')).toBe('4F60597D5417');
    expect(ucs2Hex('13800138000')).toBe('00310033003800300030003100330038003000300030');
    expect(chooseEncoding('Alarm at house 7!')).toBe('gsm');
    expect(chooseEncoding('7号户报警，请速来')).toBe('ucs2');
    expect(chooseEncoding('price: 5€')).toBe('ucs2'); // € is not safe in plain text mode
  });

  it('splits long texts into numbered parts that fit (70 UCS2 / 160 GSM characters)', () => {
    const zh = '报'.repeat(150);
    const parts = splitSms(zh, 'ucs2');
    expect(parts).toHaveLength(3);
    expect(parts.every((p) => [...p].length <= 70)).toBe(true);
    expect(parts[0]!.startsWith('(1/3) ')).toBe(true);
    expect(parts.map((p) => p.replace(/^\(\d\/\d\) /, '')).join('')).toBe(zh);
    expect(splitSms('a'.repeat(160), 'gsm')).toEqual(['a'.repeat(160)]);
  });

  it('counts a character outside the BMP as two UCS2 units and never splits its pair', () => {
    const rare = '𠀀'.repeat(40); // CJK extension B (a rare character of a name): 80 UTF-16 units
    expect(splitSms('𠀀'.repeat(35), 'ucs2')).toEqual(['𠀀'.repeat(35)]); // 70 units: one SMS
    const parts = splitSms(rare, 'ucs2');
    expect(parts).toEqual([`(1/2) ${'𠀀'.repeat(31)}`, `(2/2) ${'𠀀'.repeat(9)}`]);
    expect(parts.every((p) => p.length <= 70)).toBe(true);
  });

  it('maps CSQ on both scales, reads registration, names +CMS errors', () => {
    expect([csqToDbm(0), csqToDbm(2), csqToDbm(30), csqToDbm(31), csqToDbm(99)]).toEqual([-113, -109, -53, -51, null]);
    expect([csqToDbm(0, 'sim800'), csqToDbm(2, 'sim800'), csqToDbm(31, 'sim800')]).toEqual([-115, -111, -53]);
    expect(parseRegistration(['+CEREG: 0,5,"1A2B","01234567",7'], 'CEREG')).toEqual({
      stat: 5,
      state: 'roaming',
      registered: true,
    });
    expect(parseRegistration(['+CREG: 0,3'], 'CREG')).toMatchObject({ state: 'denied', registered: false });
    expect([cmsErrorText(331), cmsErrorText(1), cmsErrorText(77)]).toEqual([
      'no network service',
      'unassigned number',
      'network cause 77',
    ]);
  });
});

const tempDir = useTempDirs();
const cleanup = useCleanups();
const brokerRef = useBroker();

async function modemRig(profile = 'simcom-sim7600') {
  const pty = await new PtyPair('modem').start();
  cleanup(() => pty.dispose());
  const sim = await new ModemSimulator(pty.a).open();
  cleanup(() => sim.close());
  const dir = tempDir();
  const config = testConfig(brokerRef.current.url, dir, {
    devices: [{ id: 'gsm', driver: 'modem', path: pty.b, profile, statusPollSec: 5 }],
  });
  const rig = new AgentRig(config, dir);
  await startChecked(rig.agent, brokerRef.current.url, cleanup);
  const modem = rig.agent.drivers[0] as GsmModemDriver;
  await waitUntil(() => modem.describe().online, 5000, 'the modem to be ready');
  return { sim, rig, modem };
}

describe('modem over a pty pair', () => {
  it('initialises, reads signal and registration (CREG and CEREG)', async () => {
    const { sim, rig, modem } = await modemRig();
    const reg = await rig.waitFor((e) => e.type === 'modem.registration');
    expect(reg.data).toMatchObject({ rssi: 20, dbm: -73, registration: 'home', registered: true });
    expect(sim.commands.slice(0, 3)).toEqual(['ATE0', 'AT+CMEE=1', 'AT+CNMI=2,1,0,0,0']);
    expect(sim.commands).toEqual(expect.arrayContaining(['AT+CSQ', 'AT+CREG?', 'AT+CEREG?']));
    sim.creg = 0;
    sim.cereg = 3;
    expect(await modem.poll()).toMatchObject({ registration: 'denied', registered: false });
  });

  it('sends Chinese text as UCS2 through the > prompt and Ctrl-Z', async () => {
    const { sim, modem } = await modemRig();
    const receipt = await modem.sendSms('13800138000', '7号户报警，已通知派出所');
    expect(receipt).toMatchObject({ parts: 1, encoding: 'ucs2' });
    expect(receipt.references[0]).toBeGreaterThan(0);
    expect(sim.sent).toEqual([
      expect.objectContaining({
        number: '13800138000',
        text: '7号户报警，已通知派出所',
        charset: 'UCS2',
        rawNumber: ucs2Hex('13800138000'),
      }),
    ]);
    expect(sim.commands).toEqual(
      expect.arrayContaining([
        'AT+CMGF=1',
        'AT+CSCS="UCS2"',
        'AT+CSMP=17,167,0,8',
        `AT+CMGS="${ucs2Hex('13800138000')}"`,
      ]),
    );
    await modem.sendSms('+8613800138000', 'Alarm at house 7');
    expect(sim.sent[1]).toMatchObject({ number: '+8613800138000', text: 'Alarm at house 7', charset: 'IRA' });
  });

  it('rejects with the +CMS ERROR and its meaning, and the next message still goes', async () => {
    const { sim, modem } = await modemRig('quectel-ec200');
    sim.failNext = [331];
    await expect(modem.sendSms('13800138000', 'test')).rejects.toMatchObject({
      code: 'SMS_ERROR',
      kind: 'CMS',
      number: 331,
      message: expect.stringContaining('no network service'),
    });
    expect(modem.smsFailed).toBe(1);
    await modem.sendSms('13800138000', 'test again');
    expect(sim.sent.map((s) => s.text)).toEqual(['test again']);
    await expect(modem.sendSms('call me', 'x')).rejects.toThrow(/not a phone number/);
  });
});
