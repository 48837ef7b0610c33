/**
 * Reading cfssl's JSON the way Go's encoding/json does, but loudly: keys match struct fields
 * case-insensitively, null means "not set", and the last of duplicate keys wins; unlike Go, a wrong
 * type names the file and field, and unknown or duplicate keys are warnings rather than silence.
 * A small hand-written reader instead of a schema library keeps `gencert` within its cold-start budget.
 */
import { fail } from '../errors.js';
import type { JsonDocument, JsonMember, JsonObject, JsonValue } from './json.js';

export type Warn = (message: string) => void;

export function jsonType(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

const isObject = (v: JsonValue): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Edit distance for "did you mean" hints; inputs are short keys. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] as number;
}

export function suggest(key: string, known: readonly string[]): string {
  const k = key.toLowerCase();
  const best = known
    .map((name) => ({ name, d: distance(k, name.toLowerCase()) }))
    .sort((x, y) => x.d - y.d)[0];
  return best && best.d <= 2 ? ` (did you mean "${best.name}"?)` : '';
}

/**
 * One JSON object of a document, read field by field. Call `finish()` after the last field: every
 * key that no field claimed is then reported as unknown.
 */
export class ObjectReader {
  private readonly claimed = new Set<string>();
  private readonly all: readonly JsonMember[];

  constructor(
    readonly doc: JsonDocument,
    readonly obj: JsonObject,
    /** Dotted path of this object, '' at the top: `names[0]`, `signing.profiles.server`. */
    readonly path: string,
    readonly warn: Warn,
  ) {
    this.all = doc.members(obj);
  }

  /** Read the top-level object of a document, failing when the document is not an object. */
  static root(doc: JsonDocument, warn: Warn): ObjectReader {
    if (!isObject(doc.value))
      throw fail('BAD_FIELD', `${doc.source}: expected a JSON object at the top level, got ${jsonType(doc.value)}`);
    return new ObjectReader(doc, doc.value, '', warn);
  }

  /** `file: path.key` for messages. */
  where(key?: string): string {
    const p = key === undefined ? this.path : this.path ? `${this.path}.${key}` : key;
    return p ? `${this.doc.source}: ${p}` : this.doc.source;
  }

  private typeError(key: string, expected: string, got: JsonValue): never {
    throw fail('BAD_FIELD', `${this.where(key)}: expected ${expected}, got ${jsonType(got)}`);
  }

  /** Every member whose key matches `field` case-insensitively (Go's rule), in source order. */
  membersOf(field: string): JsonMember[] {
    const f = field.toLowerCase();
    this.claimed.add(f);
    return this.all.filter((m) => m.key.toLowerCase() === f);
  }

  /** The member for `field`; with duplicates the last wins (as in Go), with a warning. Null counts as absent. */
  member(field: string): JsonMember | undefined {
    const found = this.membersOf(field);
    if (found.length > 1)
      this.warn(`${this.where()}: duplicate key "${(found[0] as JsonMember).key}"; the last value wins`);
    const last = found[found.length - 1];
    return last === undefined || last.value === null ? undefined : last;
  }

  string(field: string): string | undefined {
    const m = this.member(field);
    if (m === undefined) return undefined;
    if (typeof m.value !== 'string') this.typeError(m.key, 'a string', m.value);
    return m.value;
  }

  boolean(field: string): boolean | undefined {
    const m = this.member(field);
    if (m === undefined) return undefined;
    if (typeof m.value !== 'boolean') this.typeError(m.key, 'true or false', m.value);
    return m.value;
  }

  integer(field: string): number | undefined {
    const m = this.member(field);
    if (m === undefined) return undefined;
    if (typeof m.value !== 'number') this.typeError(m.key, 'a number', m.value);
    if (!Number.isSafeInteger(m.value)) throw fail('BAD_FIELD', `${this.where(m.key)}: expected a whole number, got ${m.value}`);
    return m.value;
  }

  /** A list of strings; `single` also accepts one bare string (our extension for name attributes). */
  stringList(field: string, single = false): string[] | undefined {
    const m = this.member(field);
    if (m === undefined) return undefined;
    return this.asStringList(m, single);
  }

  asStringList(m: JsonMember, single = false): string[] {
    if (single && typeof m.value === 'string') return [m.value];
    if (!Array.isArray(m.value)) this.typeError(m.key, single ? 'a string or a list of strings' : 'a list of strings', m.value);
    return m.value.map((v, i) => {
      if (typeof v !== 'string') throw fail('BAD_FIELD', `${this.where(`${m.key}[${i}]`)}: expected a string, got ${jsonType(v)}`);
      return v;
    });
  }

  object(field: string): ObjectReader | undefined {
    const m = this.member(field);
    if (m === undefined) return undefined;
    if (!isObject(m.value)) this.typeError(m.key, 'an object', m.value);
    return new ObjectReader(this.doc, m.value, this.path ? `${this.path}.${m.key}` : m.key, this.warn);
  }

  /** A list of objects, each as a reader. */
  objectList(field: string): ObjectReader[] | undefined {
    const m = this.member(field);
    if (m === undefined) return undefined;
    if (!Array.isArray(m.value)) this.typeError(m.key, 'a list of objects', m.value);
    const base = this.path ? `${this.path}.${m.key}` : m.key;
    return m.value.map((v, i) => {
      if (!isObject(v)) throw fail('BAD_FIELD', `${this.doc.source}: ${base}[${i}]: expected an object, got ${jsonType(v)}`);
      return new ObjectReader(this.doc, v, `${base}[${i}]`, this.warn);
    });
  }

  /** A JSON object used as a map (profile names, auth key names): exact keys, last duplicate wins. */
  entries(): [string, JsonValue][] {
    const seen = new Map<string, JsonValue>();
    for (const m of this.all) {
      if (seen.has(m.key)) this.warn(`${this.where()}: duplicate key "${m.key}"; the last value wins`);
      seen.set(m.key, m.value);
    }
    return [...seen];
  }

  child(key: string, value: JsonObject): ObjectReader {
    return new ObjectReader(this.doc, value, this.path ? `${this.path}.${key}` : key, this.warn);
  }

  /**
   * Warn about every key no field claimed. `unsupported` lists keys cfssl knows that etcd-tls does
   * not act on, with the reason, so a user sees why a setting has no effect.
   */
  finish(known: readonly string[], unsupported: Readonly<Record<string, string>> = {}): void {
    const unsupportedLower = new Map(Object.entries(unsupported).map(([k, why]) => [k.toLowerCase(), why]));
    const reported = new Set<string>();
    for (const m of this.all) {
      const k = m.key.toLowerCase();
      if (this.claimed.has(k) || reported.has(k)) continue;
      reported.add(k);
      const why = unsupportedLower.get(k);
      if (why !== undefined) this.warn(`${this.where()}: "${m.key}" is not supported by etcd-tls (${why}); ignored`);
      else this.warn(`${this.where()}: unknown key "${m.key}"; ignored${suggest(m.key, known)}`);
    }
  }
}
