/** Reading the docs' markdown tables in tests, so a page and the code it describes cannot drift apart. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A page of the repository (README.md, docs/county.md, ...) as text. */
export function readPage(rel: string): string {
  return readFileSync(fileURLToPath(new URL(`../../${rel}`, import.meta.url)), 'utf8');
}

/** The text of a section: from its heading line to the next heading of the same or a higher level. */
export function section(page: string, heading: string): string {
  const lines = page.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start < 0) throw new Error(`no heading "${heading}"`);
  const level = /^#+/.exec(heading)![0].length;
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && /^#+/.exec(l)![0].length <= level);
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/**
 * The body rows of every table in the text, each as its trimmed cells (an escaped `\|` stays in
 * its cell). Padding does not matter, so a page prettier has reformatted reads the same.
 */
export function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => /^\s*\|.*\|\s*$/.test(l) && !/^\s*\|[\s:|-]+\|\s*$/.test(l))
    .map((l) =>
      l
        .trim()
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim().replaceAll('\\|', '|')),
    );
}
