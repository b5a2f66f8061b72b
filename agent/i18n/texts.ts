/**
 * The catalogue for a language, and which language a command line asks for: `--lang` first,
 * then the locale environment as POSIX orders it (LC_ALL, LC_MESSAGES, LANG): zh_CN.* (or
 * zh-CN, zh_SG, zh_Hans...) is Chinese; anything else, or nothing, English.
 */
import { DEFAULT_LANGUAGE, LANGUAGES, type Language } from '../../core/contracts/languages.js';
import { en, type Texts } from './en.js';
import { zhCN } from './zh-CN.js';

export type { Texts };

export const TEXTS: Readonly<Record<Language, Texts>> = { en, 'zh-CN': zhCN };

export const textsFor = (lang: Language): Texts => TEXTS[lang];

export const isLanguage = (v: string): v is Language => (LANGUAGES as readonly string[]).includes(v);

/** The language of a locale name (zh_CN.UTF-8, zh-CN, en_US.UTF-8, C), or null for none. */
function fromLocale(locale: string | undefined): Language | null {
  if (!locale) return null;
  // Simplified Chinese: mainland China, Singapore, or Hans named; zh_TW and zh_HK are not it.
  if (/^zh([_-](CN|SG|Hans)([._@-]|$)|$|[.@])/i.test(locale)) return 'zh-CN';
  return 'en';
}

/** `--lang` when given (it must be a known language: the caller checks), else the environment's locale. */
export function chooseLanguage(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Language {
  if (flag !== undefined && isLanguage(flag)) return flag;
  // An empty variable counts as unset (POSIX): `LC_ALL= village-gateway status` falls through to LANG.
  return fromLocale(env.LC_ALL || env.LC_MESSAGES || env.LANG) ?? DEFAULT_LANGUAGE;
}
