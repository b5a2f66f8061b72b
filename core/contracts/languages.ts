/**
 * The languages the gateway's own texts come in: the alarm SMS (`alarms.smsLanguage`) and what
 * `status` prints (`--lang`, or LANG/LC_ALL). English is the default; the villages' districts
 * read Simplified Chinese. The texts themselves are in agent/i18n/, one catalogue a language.
 */
export const LANGUAGES = ['en', 'zh-CN'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'en';
