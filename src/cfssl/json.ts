/**
 * A small strict JSON parser that keeps what JSON.parse throws away: every member of every object in
 * source order, duplicates included, with its position. cfssl's own inputs need that: the blog's CA
 * CSR lists "OU" twice and both values belong in the subject, while JSON.parse (and Go) keep only the
 * last one. Errors name `file:line:col`. The value it returns is the one JSON.parse would return
 * (test/unit/cfssl-json.test.ts checks that differentially), so everything else can treat it as plain JSON.
 *
 * Also here: the Go-compatible serializer for what the commands print.
 */
import { fail } from '../errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** One `"key": value` pair as written. `offset` is the index of the key's opening quote. */
export interface JsonMember {
  key: string;
  value: JsonValue;
  offset: number;
}

export interface JsonDocument {
  value: JsonValue;
  /** Names the input in messages (a file name, or `stdin`). */
  source: string;
  /** Every member of an object of this document, in source order, duplicates included. */
  members(obj: JsonObject): readonly JsonMember[];
  /** 1-based line and column of a character offset. */
  position(offset: number): { line: number; column: number };
}

const MAX_DEPTH = 512;

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

const describeChar = (c: string): string =>
  c.charCodeAt(0) < 0x20 ? `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}` : `'${c}'`;

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

class Parser {
  private pos = 0;
  private depth = 0;
  readonly members = new WeakMap<JsonObject, JsonMember[]>();

  constructor(
    private readonly text: string,
    private readonly source: string,
  ) {}

  private error(message: string, at = this.pos): never {
    const { line, column } = lineColumn(this.text, at);
    throw fail('BAD_JSON', `${this.source}:${line}:${column}: ${message}`);
  }

  private skipSpace(): void {
    const t = this.text;
    for (;;) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else return;
    }
  }

  parseDocument(): JsonValue {
    this.skipSpace();
    const value = this.parseValue('a JSON value');
    this.skipSpace();
    if (this.pos < this.text.length)
      this.error(`unexpected ${describeChar(this.text[this.pos] as string)} after the end of the JSON value`);
    return value;
  }

  /** `what` says what the grammar expects here, for the error when the input ends or goes wrong. */
  private parseValue(what: string): JsonValue {
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.parseObject();
      case '[':
        return this.parseArray();
      case '"':
        return this.parseString();
      case 't':
        return this.parseWord('true', true);
      case 'f':
        return this.parseWord('false', false);
      case 'n':
        return this.parseWord('null', null);
      case undefined:
        return this.error(`unexpected end of input; expected ${what}`);
      default:
        if (c === '-' || (c >= '0' && c <= '9')) return this.parseNumber();
        return this.unexpected(what);
    }
  }

  private unexpected(what: string): never {
    const c = this.text[this.pos] as string;
    if (/[A-Za-z_]/.test(c)) this.badWord(what);
    if (c === "'") this.error(`strings and keys must use double quotes, not single quotes`);
    if (c === '/' && (this.text[this.pos + 1] === '/' || this.text[this.pos + 1] === '*'))
      this.error('comments are not allowed in JSON');
    return this.error(`unexpected ${describeChar(c)}; expected ${what}`);
  }

  private badWord(what: string): never {
    const m = /^[A-Za-z0-9_]+/.exec(this.text.slice(this.pos, this.pos + 40));
    return this.error(`unexpected word "${m?.[0] ?? this.text[this.pos]}"; expected ${what} (strings need double quotes)`);
  }

  private parseWord<T extends JsonValue>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.badWord('a value');
    this.pos += word.length;
    return value;
  }

  private parseNumber(): number {
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    const next = this.text[NUMBER.lastIndex];
    if (!m || (next !== undefined && /[0-9.eE+\-]/.test(next))) {
      const bad = /^[-+0-9.eE]+/.exec(this.text.slice(this.pos))?.[0] ?? this.text[this.pos];
      this.error(`invalid number "${bad}"`);
    }
    this.pos = NUMBER.lastIndex;
    return Number(m[0]);
  }

  private parseString(): string {
    const t = this.text;
    const start = this.pos;
    this.pos++;
    let out = '';
    let chunk = this.pos;
    for (;;) {
      const code = t.charCodeAt(this.pos);
      if (Number.isNaN(code)) this.error('unterminated string (no closing double quote)', start);
      if (code === 0x22) {
        out += t.slice(chunk, this.pos);
        this.pos++;
        return out;
      }
      if (code < 0x20) this.error(`control character ${describeChar(t[this.pos] as string)} in a string must be escaped`);
      if (code === 0x5c) {
        out += t.slice(chunk, this.pos);
        const e = t[this.pos + 1];
        if (e === 'u') {
          const hex = t.slice(this.pos + 2, this.pos + 6);
          if (!/^[0-9A-Fa-f]{4}$/.test(hex)) this.error(`invalid escape "\\u${hex}": expected 4 hex digits`);
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 6;
        } else if (e !== undefined && e in ESCAPES) {
          out += ESCAPES[e];
          this.pos += 2;
        } else {
          if (e === undefined) this.error('unterminated string (no closing double quote)', start);
          this.error(`invalid escape "\\${e}" in a string`);
        }
        chunk = this.pos;
        continue;
      }
      this.pos++;
    }
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.error(`nested more than ${MAX_DEPTH} levels deep`);
  }

  private parseArray(): JsonValue[] {
    const open = this.pos;
    this.enter();
    this.pos++;
    const out: JsonValue[] = [];
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === ']' && out.length > 0) this.error(`trailing comma before ']'`);
      out.push(this.parseValue('a value'));
      this.skipSpace();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ']') {
        this.pos++;
        this.depth--;
        return out;
      }
      if (c === undefined) this.unclosed('array', open);
      this.error(`expected ',' or ']' after an array element, found ${describeChar(c)}`);
    }
  }

  private unclosed(kind: string, open: number): never {
    const { line, column } = lineColumn(this.text, open);
    return this.error(`unexpected end of input: the ${kind} opened at ${line}:${column} is not closed`);
  }

  private parseObject(): JsonObject {
    const open = this.pos;
    this.enter();
    this.pos++;
    const obj: JsonObject = {};
    const members: JsonMember[] = [];
    this.members.set(obj, members);
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      this.depth--;
      return obj;
    }
    for (;;) {
      this.skipSpace();
      const k = this.text[this.pos];
      if (k === '}' && members.length > 0) this.error(`trailing comma before '}'`);
      if (k === undefined) this.unclosed('object', open);
      if (k !== '"') this.unexpected('a double-quoted key');
      const offset = this.pos;
      const key = this.parseString();
      this.skipSpace();
      if (this.text[this.pos] !== ':') {
        if (this.text[this.pos] === undefined) this.unclosed('object', open);
        this.error(`expected ':' after the key "${key}"`);
      }
      this.pos++;
      this.skipSpace();
      const value = this.parseValue(`a value for "${key}"`);
      members.push({ key, value, offset });
      // JSON.parse defines "__proto__" as an own property; plain assignment would set the prototype.
      if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
      else obj[key] = value;
      this.skipSpace();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === '}') {
        this.pos++;
        this.depth--;
        return obj;
      }
      if (c === undefined) this.unclosed('object', open);
      this.error(`expected ',' or '}' after the value of "${key}", found ${describeChar(c)}`);
    }
  }
}

/**
 * Parse JSON strictly (RFC 8259, exactly what JSON.parse accepts), keeping duplicate keys visible
 * through `members()`. A leading UTF-8 byte order mark is skipped, as editors on Windows write one.
 * Errors are BAD_JSON `source:line:col: problem`.
 *
 * @example
 *   const doc = parseJson('{"OU":"a","OU":"b"}', 'csr.json');
 *   doc.value;                                  // { OU: 'b' }, as JSON.parse
 *   doc.members(doc.value as JsonObject);       // both members, in order
 */
export function parseJson(text: string, source: string): JsonDocument {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const parser = new Parser(body, source);
  const value = parser.parseDocument();
  return {
    value,
    source,
    members: (obj) => parser.members.get(obj) ?? Object.entries(obj).map(([key, v]) => ({ key, value: v, offset: 0 })),
    position: (offset) => lineColumn(body, offset),
  };
}

/** What the commands print may hold big integers (certinfo's RSA modulus), which Go prints as plain digits. */
export type OutputValue = null | boolean | number | bigint | string | OutputValue[] | { [key: string]: OutputValue | undefined };

// Go's encoding/json escapes these for HTML safety; matching it keeps our output byte-identical to cfssl's.
const GO_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
  '\\b': '\\u0008',
  '\\f': '\\u000c',
};

function goString(s: string): string {
  // Escape pairs are matched whole, so the `\b` inside an escaped backslash followed by b is left alone.
  return JSON.stringify(s).replace(/\\.|[<>&\u2028\u2029]/g, (m) => GO_ESCAPES[m] ?? m);
}

/**
 * Serialize like Go's json.Marshal (indent '') or json.MarshalIndent(v, '', indent): keys in insertion
 * order, undefined members left out, Go's escaping. cfssl prints `{"cert":..,"csr":..,"key":..}` this way.
 */
export function stringifyGo(value: OutputValue, indent = '', prefix = ''): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return goString(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`cannot serialize ${value} as JSON`);
      return String(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return String(value);
  }
  const inner = prefix + indent;
  const nl = indent ? `\n${inner}` : '';
  const close = indent ? `\n${prefix}` : '';
  const sep = indent ? ': ' : ':';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[${nl}${value.map((v) => stringifyGo(v, indent, inner)).join(`,${nl}`)}${close}]`;
  }
  const entries = Object.entries(value).filter((e): e is [string, OutputValue] => e[1] !== undefined);
  if (entries.length === 0) return '{}';
  return `{${nl}${entries.map(([k, v]) => `${goString(k)}${sep}${stringifyGo(v, indent, inner)}`).join(`,${nl}`)}${close}}`;
}

/** What gencert / sign / genkey / selfsign print (fields absent from a command's output are left out). */
export interface CfsslResult {
  cert?: string;
  csr?: string;
  key?: string;
  /** What the ledger records of a certificate signed by a CA (absent for self-signed output). Not printed. */
  issued?: IssuedLeaf;
}

/** The facts of an issued certificate that its record needs, from the request that made it. */
export interface IssuedLeaf {
  der: Buffer;
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  /** SANs as written in the certificate: DNS names, IPs, emails, URIs. */
  sans: string[];
  commonName: string;
}

/**
 * The stdout line of gencert / sign / genkey / selfsign, byte-compatible with cfssl's: one line of
 * compact JSON with sorted keys, then a newline.
 *
 * @example
 *   io.out(renderResult({ cert, csr, key }));   // {"cert":"-----BEGIN...","csr":"...","key":"..."}\n
 */
export function renderResult(result: CfsslResult): string {
  const { cert, csr, key } = result;
  return `${stringifyGo({ cert, csr, key })}\n`;
}
