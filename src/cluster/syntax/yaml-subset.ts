/**
 * A reader for the plain YAML most specs are written in, used before the `yaml` package. Cold, the
 * `yaml` package's generator-based lexer and composer take ~40-80 ms for a 100-member spec (about a
 * third of a whole `plan`); this reader takes ~1 ms. It gives either exactly the value `yaml` would
 * (`parseDocument(text).toJS()` under the YAML 1.2 core schema) or `undefined`, and `undefined` means
 * only "not sure": the caller then parses with `yaml`, which also reports errors with positions.
 *
 * What it reads: block mappings and sequences indented with spaces, flow mappings and sequences that
 * close on their own line, `#` comments, keys that are plain words, and scalars that are plain words,
 * small decimal integers, true/false/null, or quoted strings without escapes. Anything else (tabs,
 * anchors, tags, multi-line scalars, escapes, numbers in other notations, duplicate keys, ...) is
 * `undefined`. test/unit/yaml-subset.test.ts holds it to `yaml` on generated documents.
 */

type Value = string | number | boolean | null | Value[] | { [key: string]: Value };

/** Bails out of the whole read; caught once in readYamlSubset. */
const NOT_SURE: unique symbol = Symbol('not sure');
const notSure = (): never => {
  throw NOT_SURE;
};

/** A plain word: no indicator first, no `: `, ` #`, flow characters, quotes or non-ASCII anywhere. */
const PLAIN = /^[A-Za-z0-9_/][A-Za-z0-9_./@=+~-]*(?:[ :][A-Za-z0-9_./@=+~-]+)*$/;
const KEY = /^[A-Za-z][A-Za-z0-9_-]*$/;
const SMALL_INT = /^(?:0|[1-9][0-9]{0,14})$/;
/** Words the core schema reads as null or a boolean. */
const KEYWORD = /^(?:null|Null|NULL|true|True|TRUE|false|False|FALSE)$/;
/** Digits first and maybe a number in the core schema (hex, octal, float, exponent): left to `yaml`. */
const MAYBE_NUMBER = /^(?:0[xo]|[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?$)/;
const QUOTED = /^(?:"[ !#-[\]-~]*"|'[ -&(-~]*')$/;

function scalar(token: string): Value {
  if (QUOTED.test(token)) return token.slice(1, -1);
  if (!PLAIN.test(token)) notSure();
  // `a:b` is one plain scalar in YAML, but `a: b` and a trailing `:` are not; `:` then space is excluded by PLAIN.
  if (token.endsWith(':')) notSure();
  if (SMALL_INT.test(token)) return Number(token);
  if (token === 'true' || token === 'True' || token === 'TRUE') return true;
  if (token === 'false' || token === 'False' || token === 'FALSE') return false;
  if (token === 'null' || token === 'Null' || token === 'NULL') return null;
  // Digits first and not a number in any notation (10.0.0.1, 8760h) is a string.
  if (MAYBE_NUMBER.test(token)) notSure();
  return token;
}

function setKey(map: { [key: string]: Value }, key: string, value: Value): void {
  if (!KEY.test(key) || Object.hasOwn(map, key) || KEYWORD.test(key)) notSure();
  map[key] = value;
}

/** One flow collection or scalar starting at `text[at]`, on one line. */
function flowValue(text: string, at: number, inFlow: boolean): [Value, number] {
  const c = text[at];
  if (c === '[') {
    const list: Value[] = [];
    let i = skipSpaces(text, at + 1);
    if (text[i] === ']') return [list, i + 1];
    for (;;) {
      const [v, end] = flowValue(text, i, true);
      list.push(v);
      i = skipSpaces(text, end);
      if (text[i] === ']') return [list, i + 1];
      if (text[i] !== ',') notSure();
      i = skipSpaces(text, i + 1);
    }
  }
  if (c === '{') {
    const map: { [key: string]: Value } = {};
    let i = skipSpaces(text, at + 1);
    if (text[i] === '}') return [map, i + 1];
    for (;;) {
      const colon = text.indexOf(': ', i);
      if (colon < 0) notSure();
      const key = text.slice(i, colon);
      const [v, end] = flowValue(text, skipSpaces(text, colon + 2), true);
      setKey(map, key, v);
      i = skipSpaces(text, end);
      if (text[i] === '}') return [map, i + 1];
      if (text[i] !== ',') notSure();
      i = skipSpaces(text, i + 1);
    }
  }
  if (!inFlow) return [scalar(text.slice(at).trimEnd()), text.length];
  let end = at;
  if (c === '"' || c === "'") {
    end = text.indexOf(c, at + 1) + 1;
    if (end === 0) notSure();
  } else {
    while (end < text.length && !',]}'.includes(text[end] as string)) end++;
  }
  return [scalar(text.slice(at, end).trimEnd()), end];
}

function skipSpaces(text: string, i: number): number {
  while (text[i] === ' ') i++;
  return i;
}

/** A value that stands on the rest of a line after `key: ` or `- `. */
function lineValue(text: string): Value {
  const [v, end] = flowValue(text, 0, false);
  if (end !== text.length) notSure();
  return v;
}

interface Line {
  indent: number;
  text: string;
}

class Reader {
  private i = 0;
  constructor(private readonly lines: Line[]) {}

  read(): Value {
    const first = this.lines[0];
    if (!first || first.indent !== 0) notSure();
    const v = this.block(0);
    if (this.i !== this.lines.length) notSure();
    return v;
  }

  private peek(): Line | undefined {
    return this.lines[this.i];
  }

  private block(indent: number): Value {
    const line = this.peek() as Line;
    return line.text === '-' || line.text.startsWith('- ') ? this.sequence(indent) : this.mapping(indent);
  }

  private sequence(indent: number): Value[] {
    const list: Value[] = [];
    for (let line = this.peek(); line && line.indent === indent && line.text.startsWith('- '); line = this.peek()) {
      const rest = line.text.slice(2);
      const pad = rest.length - rest.trimStart().length;
      const item = rest.slice(pad);
      if (item === '' || item.startsWith('-') || item.startsWith('#')) notSure();
      if (/^[A-Za-z][A-Za-z0-9_-]*:(?: |$)/.test(item)) {
        // `- key: value` opens a mapping whose keys sit at the column of `key`.
        this.lines[this.i] = { indent: indent + 2 + pad, text: item };
        list.push(this.mapping(indent + 2 + pad));
      } else {
        list.push(lineValue(item));
        this.i++;
      }
    }
    const next = this.peek();
    if (next && next.indent > indent) notSure();
    return list;
  }

  private mapping(indent: number): { [key: string]: Value } {
    const map: { [key: string]: Value } = {};
    for (let line = this.peek(); line && line.indent === indent; line = this.peek()) {
      const colon = line.text.indexOf(':');
      if (colon < 0) notSure();
      const key = line.text.slice(0, colon);
      const rest = line.text.slice(colon + 1);
      this.i++;
      if (rest === '') {
        const next = this.peek();
        if (!next || !(next.indent > indent || (next.indent === indent && next.text.startsWith('- ')))) return notSure();
        setKey(map, key, this.block(next.indent));
      } else {
        if (!rest.startsWith(' ')) notSure();
        setKey(map, key, lineValue(rest.trimStart()));
      }
    }
    const next = this.peek();
    if (next && next.indent > indent) notSure();
    return map;
  }
}

/**
 * The value of a spec written in plain YAML, or `undefined` when the text uses anything beyond that
 * (then parse it with the `yaml` package).
 */
export function readYamlSubset(text: string): unknown {
  const lines: Line[] = [];
  for (const raw of text.split('\n')) {
    // Tabs, CR and every other control or non-ASCII character: the `yaml` package decides.
    if (!/^[ -~]*$/.test(raw)) return undefined;
    const hash = raw.indexOf('#');
    if (hash >= 0 && hash !== 0 && raw[hash - 1] !== ' ') return undefined;
    const body = (hash >= 0 ? raw.slice(0, hash) : raw).trimEnd();
    if (body === '') continue;
    const text = body.trimStart();
    if (text.startsWith('---') || text.startsWith('...') || text.startsWith('%')) return undefined;
    // A `#` inside quotes would have been cut as a comment: leave quoted `#` to `yaml`.
    if (hash >= 0 && /["']/.test(body)) return undefined;
    lines.push({ indent: body.length - text.length, text });
  }
  try {
    const value = new Reader(lines).read();
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch (e) {
    if (e === NOT_SURE) return undefined;
    throw e;
  }
}
