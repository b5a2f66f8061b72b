/**
 * Reads and parses a config or profile file without letting the file decide how much memory
 * or time that takes. The launcher gives V8 a 64 MB heap (a Pi-class gateway), and the yaml
 * package spends about 250 bytes of heap per token: measured here, 256 KiB of `[1,1,1,...]`
 * or 600 KiB of `[[[[...]]]]` aborted the process out of memory, and an alias bomb or an
 * unresolved alias threw from `toJS` as a stack trace. So, before anything is parsed:
 * the size is bounded (read at most LIMIT + 1 bytes, whatever the file claims to be), then a
 * streaming lexer (a few MB whatever the input) counts tokens and flow nesting, and only then
 * is the document built, with a bounded alias count. Every refusal is a problem, never a throw.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Lexer, parseDocument } from 'yaml';
import type { ConfigProblem } from './zod-problems.js';

export const YAML_LIMITS = {
  /** Real configs are a few KB (demo.yaml: 3 KB); 256 KiB still parses in ~35 MB of heap. */
  maxBytes: 256 * 1024,
  /** demo.yaml is ~1,000 tokens; 50,000 stay under ~15 MB of heap while parsing. */
  maxTokens: 50_000,
  /** `[` / `{` nesting; block nesting is bounded by indentation and costs nothing. */
  maxFlowDepth: 64,
  /** Alias expansions (yaml's `maxAliasCount`): a "billion laughs" file needs millions. */
  maxAliasCount: 100,
} as const;

export type Parsed = { ok: true; value: unknown; text: string } | { ok: false; problems: ConfigProblem[] };

const kib = (n: number) => `${Math.round(n / 1024)} KiB`;
const fail = (message: string): Parsed => ({ ok: false, problems: [{ path: '', message }] });

/**
 * Reads at most `maxBytes` (+1 to tell "too big") whatever the file is: /dev/zero or a file still growing cannot
 * make us read more.
 */
export function readBounded(
  file: string,
  maxBytes: number = YAML_LIMITS.maxBytes,
): { ok: true; text: string } | { ok: false; message: string } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    return { ok: false, message: `cannot read: ${(err as Error).message}` };
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) return { ok: false, message: `cannot read: ${file} is a directory` };
    if (st.isFile() && st.size > maxBytes)
      return { ok: false, message: `file too large: ${st.size} bytes (at most ${maxBytes}, ${kib(maxBytes)})` };
    const buf = Buffer.alloc(maxBytes + 1);
    let got = 0;
    for (;;) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
      if (got > maxBytes) return { ok: false, message: `file too large: over ${maxBytes} bytes (${kib(maxBytes)})` };
    }
    return { ok: true, text: buf.toString('utf8', 0, got) };
  } catch (err) {
    return { ok: false, message: `cannot read: ${(err as Error).message}` };
  } finally {
    closeSync(fd);
  }
}

/** Counts tokens and flow depth with the streaming lexer; stops at the first limit passed. */
export function checkComplexity(text: string): string | null {
  let tokens = 0;
  let depth = 0;
  for (const tok of new Lexer().lex(text)) {
    if (++tokens > YAML_LIMITS.maxTokens) {
      return `too complex: over ${YAML_LIMITS.maxTokens} YAML tokens (keys, values, punctuation; the demo config has about 1,000)`;
    }
    if (tok === '[' || tok === '{') {
      if (++depth > YAML_LIMITS.maxFlowDepth)
        return `nested too deep: over ${YAML_LIMITS.maxFlowDepth} levels of [ ] or { }`;
    } else if (tok === ']' || tok === '}') depth = Math.max(0, depth - 1);
  }
  return null;
}

/** Parses text as YAML (JSON is YAML too) within the limits; syntax errors carry line numbers. */
export function parseYamlText(text: string, maxBytes: number = YAML_LIMITS.maxBytes): Parsed {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) return fail(`file too large: ${bytes} bytes (at most ${maxBytes}, ${kib(maxBytes)})`);
  const complex = checkComplexity(text);
  if (complex) return fail(complex);
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0)
    return {
      ok: false,
      problems: doc.errors.map((e) => ({ path: '', message: `syntax: ${e.message.split('\n')[0]}` })),
    };
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: YAML_LIMITS.maxAliasCount }), text };
  } catch (err) {
    const msg = (err as Error).message;
    // yaml: "Excessive alias count indicates a resource exhaustion attack" (ReferenceError).
    if (/alias count/i.test(msg))
      return fail(
        `syntax: aliases (*name) expand to more than ${YAML_LIMITS.maxAliasCount} copies; refused (a "billion laughs" file would exhaust memory)`,
      );
    return fail(`syntax: ${msg.split('\n')[0]}`);
  }
}

/** readBounded + parseYamlText. */
export function readYamlFile(file: string, maxBytes: number = YAML_LIMITS.maxBytes): Parsed {
  const r = readBounded(file, maxBytes);
  return r.ok ? parseYamlText(r.text, maxBytes) : fail(r.message);
}
