/**
 * Named groups made positional: V8 builds a `groups` object on every match of a pattern
 * with named groups, which cost a third of our decode time. We rewrite `(?<name>` to `(`
 * once and remember which capture index each name has.
 */
export function positionalRegex(pattern: string): { re: RegExp; names: [string, number][] } {
  let out = '';
  const names: [string, number][] = [];
  let capture = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      out += c + (pattern[i + 1] ?? '');
      i += 1;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      continue;
    }
    if (c === '(') {
      const named = /^\(\?<([A-Za-z_$][\w$]*)>/.exec(pattern.slice(i));
      if (named) {
        capture += 1;
        names.push([named[1]!, capture]);
        out += '(';
        i += named[0].length - 1;
        continue;
      }
      if (pattern[i + 1] !== '?') capture += 1; // a plain capturing group; (?:, (?=, (?<= ... are not
    }
    out += c;
  }
  return { re: new RegExp(out), names };
}
