/**
 * How the installed agent runs, for the benchmarks that measure its memory: the V8 flags of the
 * CLI's launcher line (`#!/usr/bin/env -S node FLAGS`), read from the built CLI itself so that
 * a change there reaches every row that claims "as installed".
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../agent/cli.js', import.meta.url));

/** The V8 flags of the CLI's launcher line. */
export function cliNodeFlags(): string[] {
  const first = readFileSync(CLI, 'utf8').split('\n', 1)[0]!;
  const m = /^#!\/usr\/bin\/env -S node(.*)$/.exec(first);
  if (!m) throw new Error(`${CLI}: launcher line not understood: ${first}`);
  return m[1]!.trim().split(/\s+/).filter(Boolean);
}
