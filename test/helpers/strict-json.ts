/**
 * JSON.parse that refuses a key said twice in one object, naming it and its path. JSON.parse
 * keeps the last of two and says nothing: a pino line with a child's binding and a log call's
 * field of the same name (`pid`, `part`, `bus`) parses, and a county's log shipper or `jq`
 * reads whichever it likes. This walks the text itself, so no duplicate can be hidden.
 */
export class DuplicateKeyError extends Error {}

export function parseStrictJson(text: string): unknown {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i += 1;
  };
  const fail = (why: string): never => {
    throw new SyntaxError(`${why} at ${i} in ${text.slice(0, 200)}`);
  };
  const string = (): string => {
    const start = i;
    i += 1; // the opening quote
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('an unterminated string');
    i += 1;
    return JSON.parse(text.slice(start, i)) as string; // the escapes, read by the real parser
  };
  const value = (path: string): unknown => {
    ws();
    const c = text[i];
    if (c === '{') {
      i += 1;
      const seen = new Set<string>();
      const obj: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') return ((i += 1), obj);
      for (;;) {
        ws();
        if (text[i] !== '"') fail('a key expected');
        const key = string();
        if (seen.has(key)) throw new DuplicateKeyError(`duplicate key "${key}" in ${path || 'the line'}: ${text}`);
        seen.add(key);
        ws();
        if (text[i] !== ':') fail('":" expected');
        i += 1;
        obj[key] = value(`${path}.${key}`);
        ws();
        if (text[i] === ',') i += 1;
        else if (text[i] === '}') return ((i += 1), obj);
        else fail('"," or "}" expected');
      }
    }
    if (c === '[') {
      i += 1;
      const arr: unknown[] = [];
      ws();
      if (text[i] === ']') return ((i += 1), arr);
      for (;;) {
        arr.push(value(`${path}[${arr.length}]`));
        ws();
        if (text[i] === ',') i += 1;
        else if (text[i] === ']') return ((i += 1), arr);
        else fail('"," or "]" expected');
      }
    }
    if (c === '"') return string();
    const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) return fail('a value expected');
    i += m[0].length;
    return JSON.parse(m[0]) as unknown;
  };
  const out = value('');
  ws();
  if (i !== text.length) fail('text after the value');
  return out;
}
