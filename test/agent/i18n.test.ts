/**
 * The gateway's own texts (agent/i18n/): every English key has its Chinese text and every
 * Chinese text is Chinese, the SMS templates say what they must in both, the locale names a
 * command line may meet choose the right catalogue, and terminal widths count a Chinese
 * character as two columns. (The Node-RED nodes' catalogues: test/nodered/nodes-i18n.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { LANGUAGES } from '../../core/contracts/languages.js';
import { displayWidth, fitToWidth, padToWidth } from '../../agent/i18n/display-width.js';
import { TEXTS, chooseLanguage } from '../../agent/i18n/texts.js';
import { chooseEncoding, splitSms } from '../../drivers/modem/sms-encoding.js';

/** Chinese characters, or the fullwidth punctuation Chinese writes (【】（），). */
const CHINESE = /[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]/;

/** Any value a text function is given: 7 as a number, "7" in a string, and 7 in every field of an object. */
const ANY: unknown = new Proxy(
  {},
  { get: (_t, key) => (key === Symbol.toPrimitive ? () => 7 : key === 'then' ? undefined : 7) },
);

/** Every leaf of a catalogue by its dotted key: its text, a function's with ANY for each argument. */
function leaves(obj: object, prefix = ''): Map<string, { text: string; arity: number }> {
  const out = new Map<string, { text: string; arity: number }>();
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(key, { text: v, arity: 0 });
    else if (typeof v === 'function') {
      const fn = v as (...a: unknown[]) => string;
      out.set(key, { text: fn(...Array.from({ length: fn.length }, () => ANY)), arity: fn.length });
    } else for (const [p, t] of leaves(v as object, key)) out.set(p, t);
  }
  return out;
}

describe('the catalogues', () => {
  const en = leaves(TEXTS.en);
  const zh = leaves(TEXTS['zh-CN']);

  it('one per language, and every English key has a Chinese text taking the same values', () => {
    expect(Object.keys(TEXTS).sort()).toEqual([...LANGUAGES].sort());
    expect(en.size).toBeGreaterThan(40);
    expect([...zh.keys()].sort()).toEqual([...en.keys()].sort());
    for (const [key, { arity }] of en) expect(zh.get(key)!.arity, key).toBe(arity);
  });

  it('the Chinese texts are Chinese and the English ones are not; the values show in both', () => {
    const sameInBoth = new Set(['status.noGateway']); // the command's name
    for (const [key, { text }] of zh) {
      if (sameInBoth.has(key)) continue;
      expect(text, key).toMatch(CHINESE);
      expect(en.get(key)!.text, key).not.toMatch(CHINESE);
      // Each value given (7) shows as often in Chinese as in English.
      expect(text.match(/7/g)?.length ?? 0, key).toBe(en.get(key)!.text.match(/7/g)?.length ?? 0);
    }
  });

  it('the alarm SMS: place, message, device and time in both; the storage alarm says local alarms still work', () => {
    const alert = { place: '青山村', message: '7号户按下了报警按钮', device: 'house-7-panic', time: '21:05' };
    expect(TEXTS.en.sms.alert(alert)).toBe('青山村: 7号户按下了报警按钮 (house-7-panic, 21:05)');
    expect(TEXTS['zh-CN'].sms.alert(alert)).toBe('【青山村】7号户按下了报警按钮（house-7-panic，21:05）');
    // An English alert of a GSM-alphabet village and message goes as GSM text, one SMS of up to 160 characters.
    const english = TEXTS.en.sms.alert({
      place: 'Qingshan',
      message: 'Panic at house 7',
      device: 'house-7-panic',
      time: '21:05',
    });
    expect(chooseEncoding(english)).toBe('gsm');
    expect(splitSms(`${english} ${'x'.repeat(160 - english.length - 1)}`, 'gsm')).toHaveLength(1);
    const storage = { place: '青山村', reason: 'dataDir /var/lib/village-gateway has vanished' };
    expect(TEXTS.en.sms.storageFailed(storage)).toBe(
      '青山村: data storage failed, events are not kept (dataDir /var/lib/village-gateway has vanished). Local alarms still work.',
    );
    expect(TEXTS['zh-CN'].sms.storageFailed(storage)).toBe(
      '青山村：数据存储故障，事件无法保存（dataDir /var/lib/village-gateway has vanished）。本地报警仍然有效。',
    );
  });

  it('the status labels fit their 9-column field with a space to spare, in every language', () => {
    for (const lang of LANGUAGES)
      for (const [key, label] of Object.entries(TEXTS[lang].status.label))
        expect(displayWidth(label), `${lang} ${key}`).toBeLessThanOrEqual(8);
  });
});

describe('the language a command line asks for', () => {
  const env = (e: Record<string, string>) => e as NodeJS.ProcessEnv;
  it('--lang first, then LC_ALL, LC_MESSAGES, LANG; Simplified Chinese locales only; English otherwise', () => {
    expect(chooseLanguage(undefined, env({}))).toBe('en');
    expect(chooseLanguage(undefined, env({ LANG: 'C.UTF-8' }))).toBe('en');
    expect(chooseLanguage(undefined, env({ LANG: 'zh_CN.UTF-8' }))).toBe('zh-CN');
    expect(chooseLanguage(undefined, env({ LANG: 'zh_CN.GB18030' }))).toBe('zh-CN');
    expect(chooseLanguage(undefined, env({ LANG: 'zh_CN' }))).toBe('zh-CN');
    expect(chooseLanguage(undefined, env({ LANG: 'zh_SG.UTF-8' }))).toBe('zh-CN');
    expect(chooseLanguage(undefined, env({ LANG: 'zh_TW.UTF-8' }))).toBe('en');
    expect(chooseLanguage(undefined, env({ LANG: 'zh_CN.UTF-8', LC_ALL: 'en_US.UTF-8' }))).toBe('en');
    expect(chooseLanguage(undefined, env({ LANG: 'en_US.UTF-8', LC_MESSAGES: 'zh_CN.UTF-8' }))).toBe('zh-CN');
    expect(chooseLanguage(undefined, env({ LANG: 'zh_CN.UTF-8', LC_ALL: '' }))).toBe('zh-CN'); // empty is unset
    expect(chooseLanguage('en', env({ LC_ALL: 'zh_CN.UTF-8' }))).toBe('en');
    expect(chooseLanguage('zh-CN', env({ LANG: 'C' }))).toBe('zh-CN');
  });
});

describe('terminal width', () => {
  it('counts Chinese characters and fullwidth punctuation as two columns, ASCII as one', () => {
    expect(displayWidth('agent')).toBe(5);
    expect(displayWidth('程序')).toBe(4);
    expect(displayWidth('报警，（）【】！')).toBe(16);
    expect(displayWidth('𠀀')).toBe(2); // CJK extension B, a surrogate pair
    expect(displayWidth('é')).toBe(1); // e and a combining accent
  });

  it('pads to a width and cuts to one with "~", never halving a wide character', () => {
    expect(padToWidth('程序', 9)).toBe('程序     ');
    expect(padToWidth('agent', 9)).toBe('agent    ');
    expect(fitToWidth('短', 40)).toBe('短');
    expect(fitToWidth('报警'.repeat(20), 40)).toBe(`${'报警'.repeat(9)}报~`); // 38 + 1: a 20th would make 41
    expect(displayWidth(fitToWidth('a报警'.repeat(20), 40))).toBeLessThanOrEqual(40);
    expect(fitToWidth('x'.repeat(41), 40)).toBe(`${'x'.repeat(39)}~`);
  });
});
