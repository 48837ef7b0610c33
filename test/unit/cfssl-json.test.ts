// The strict JSON parser of src/cfssl/json.ts: duplicate keys stay visible, errors say file:line:col,
// and on everything else it agrees with JSON.parse (differential test over generated and corrupted inputs).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isEtcdTlsError } from '../../src/errors.js';
import { parseJson, stringifyGo, type JsonObject, type JsonValue } from '../../src/cfssl/json.js';

/** A small deterministic PRNG (mulberry32), so a failing input can be reproduced from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRING_CHARS = ['a', 'Z', ' ', '"', '\\', '/', '\n', '\t', '\u0001', 'é', '€', '😀', '\ud800', '<', '&', '\u2028', 'OU'];
const KEYS = ['CN', 'OU', 'names', 'hosts', 'key', 'size', 'algo', '__proto__', 'constructor', '', '1', '0', 'a b'];

function randomValue(rand: () => number, depth: number): JsonValue {
  const pick = Math.floor(rand() * (depth > 3 ? 5 : 7));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2: {
      const forms = [0, -0, 1, -1, 2048, 1.5, -2.25e-7, 1e21, 123456789012345680000, Number.MAX_SAFE_INTEGER, 5e-324];
      return forms[Math.floor(rand() * forms.length)] as number;
    }
    case 3:
    case 4: {
      let s = '';
      const n = Math.floor(rand() * 6);
      for (let i = 0; i < n; i++) s += STRING_CHARS[Math.floor(rand() * STRING_CHARS.length)];
      return s;
    }
    case 5:
      return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
    default: {
      const obj: JsonObject = {};
      const n = Math.floor(rand() * 4);
      for (let i = 0; i < n; i++) {
        const key = KEYS[Math.floor(rand() * KEYS.length)] as string;
        Object.defineProperty(obj, key, { value: randomValue(rand, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return obj;
    }
  }
}

/** JSON text for a value with random (legal) whitespace and, sometimes, duplicated keys. */
function render(v: JsonValue, rand: () => number): string {
  const ws = (): string => ['', '', ' ', '\n', '\t', '\r\n  '][Math.floor(rand() * 6)] as string;
  if (v === null || typeof v !== 'object') {
    // Numbers sometimes in another legal spelling: 1E+2, 0.5e0, -0.
    if (typeof v === 'number' && rand() < 0.2 && Number.isFinite(v) && v !== 0) return v.toExponential().replace('e', rand() < 0.5 ? 'E' : 'e');
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${ws()}${v.map((x) => render(x, rand)).join(`${ws()},${ws()}`)}${ws()}]`;
  const parts = Object.keys(v).map((k) => `${JSON.stringify(k)}${ws()}:${ws()}${render(v[k] as JsonValue, rand)}`);
  if (parts.length > 0 && rand() < 0.2) parts.unshift(parts[parts.length - 1] as string);
  return `{${ws()}${parts.join(`${ws()},${ws()}`)}${ws()}}`;
}

const MUTATION_CHARS = ['{', '}', '[', ']', ',', ':', '"', '\\', 'u', '0', '1', '-', '+', '.', 'e', 't', 'n', ' ', '\n', '\u0000', "'", '/', '*', 'x'];

function mutate(text: string, rand: () => number): string {
  const i = Math.floor(rand() * (text.length + 1));
  switch (Math.floor(rand() * 5)) {
    case 0:
      return text.slice(0, i) + text.slice(i + 1);
    case 1:
      return text.slice(0, i) + (MUTATION_CHARS[Math.floor(rand() * MUTATION_CHARS.length)] as string) + text.slice(i);
    case 2:
      return text.slice(0, i);
    case 3:
      return text.slice(0, i) + (MUTATION_CHARS[Math.floor(rand() * MUTATION_CHARS.length)] as string) + text.slice(i + 1);
    default:
      return text.slice(0, i) + text.slice(i, i + 3) + text.slice(i);
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false };

function ours(text: string): Outcome {
  try {
    return { ok: true, value: parseJson(text, 'in.json').value };
  } catch (e) {
    assert.ok(isEtcdTlsError(e) && e.code === 'BAD_JSON', `non-domain error for ${JSON.stringify(text)}: ${String(e)}`);
    assert.match(e.message, /^in\.json:\d+:\d+: \S/, `message without position for ${JSON.stringify(text)}`);
    return { ok: false };
  }
}

function reference(text: string): Outcome {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

describe('parseJson agrees with JSON.parse', () => {
  test('on 3000 generated documents and 30000 corruptions of them', () => {
    const rand = prng(20240611);
    let valid = 0;
    let invalid = 0;
    for (let n = 0; n < 3000; n++) {
      const text = render(randomValue(rand, 0), rand);
      const inputs = [text];
      for (let m = 0; m < 10; m++) inputs.push(mutate(rand() < 0.3 ? mutate(text, rand) : text, rand));
      for (const input of inputs) {
        const want = reference(input);
        const got = ours(input);
        assert.equal(got.ok, want.ok, `${want.ok ? 'rejected' : 'accepted'} ${JSON.stringify(input)}`);
        if (want.ok && got.ok) assert.deepEqual(got.value, want.value, `value differs for ${JSON.stringify(input)}`);
        if (want.ok) valid++;
        else invalid++;
      }
    }
    // Both sides of the comparison must be well exercised for the test to mean anything.
    assert.ok(valid > 5000 && invalid > 10000, `valid ${valid}, invalid ${invalid}`);
  });

  test('on hand-picked edge cases', () => {
    const cases = [
      '0', '-0', '1e400', '-1e-400', '0.0', '1E+2', '"\\u00e9\\ud83d\\ude00"', '"\\ud800"', '"\\/"', '{"__proto__":{"x":1}}',
      '{"a":1,"a":2}', '[]', '{}', ' [ 1 , 2 ] ', 'true', 'null', '""',
      '01', '1.', '.5', '+1', '-', '1e', '0x10', 'NaN', 'Infinity', '[1,]', '{"a":1,}', '{,}', '[,]', "{'a':1}",
      '{"a" 1}', '{"a":1 "b":2}', '"\\x"', '"\\u12"', '"a\nb"', '"\t"', '//c\n1', '/*c*/1', 'tru', 'True', '1 2',
      '{"a":}', '[1 2]', '"abc', '[', '{', '{"a"', '{"a":', '\u00a01', '\u20281',
    ];
    for (const input of cases) {
      const want = reference(input);
      const got = ours(input);
      assert.equal(got.ok, want.ok, JSON.stringify(input));
      if (want.ok && got.ok) assert.deepEqual(got.value, want.value, JSON.stringify(input));
    }
  });

  test('"__proto__" is an own key, as with JSON.parse, and does not change the prototype', () => {
    const v = parseJson('{"__proto__":{"polluted":true}}', 'x').value as JsonObject;
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.deepEqual(Object.keys(v), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('parseJson keeps what JSON.parse loses', () => {
  test('every member of an object in source order, duplicates included', () => {
    const doc = parseJson('{"OU":"Org Unit 1","C":"US",\n "OU":"Org Unit 2"}', 'ca-csr.json');
    const members = doc.members(doc.value as JsonObject);
    assert.deepEqual(members.map((m) => [m.key, m.value]), [['OU', 'Org Unit 1'], ['C', 'US'], ['OU', 'Org Unit 2']]);
    assert.deepEqual(doc.value, { OU: 'Org Unit 2', C: 'US' });
    assert.deepEqual(doc.position((members[2] as { offset: number }).offset), { line: 2, column: 2 });
  });

  test('a leading byte order mark is skipped (Windows editors write one)', () => {
    assert.deepEqual(parseJson('\ufeff{"CN":"x"}', 'a.json').value, { CN: 'x' });
  });
});

describe('parseJson errors name file:line:col and the problem', () => {
  const cases: [string, string, RegExp][] = [
    ['unterminated input', '{"CN":"bad",', /^csr\.json:1:13: unexpected end of input: the object opened at 1:1 is not closed$/],
    ['trailing comma', '{\n  "CN": "a",\n}', /^csr\.json:3:1: trailing comma before '}'$/],
    ['comment', '{\n  // the CA\n  "CN": "a"\n}', /^csr\.json:2:3: comments are not allowed in JSON$/],
    ['single quotes', "{'CN': 'a'}", /^csr\.json:1:2: strings and keys must use double quotes/],
    ['missing colon', '{"CN" "a"}', /^csr\.json:1:7: expected ':' after the key "CN"$/],
    ['missing comma', '{"CN":"a"\n "hosts":[]}', /^csr\.json:2:2: expected ',' or '}' after the value of "CN", found '"'$/],
    ['bad number', '{"size":02048}', /^csr\.json:1:9: invalid number "02048"$/],
    ['raw newline in a string', '{"CN":"a\nb"}', /^csr\.json:1:9: control character U\+000A in a string must be escaped$/],
    ['bad escape', '{"CN":"a\\qb"}', /^csr\.json:1:9: invalid escape "\\q"/],
    ['unquoted word', '{"algo":rsa}', /^csr\.json:1:9: unexpected word "rsa"/],
    ['trailing content', '{"CN":"a"} x', /^csr\.json:1:12: unexpected 'x' after the end of the JSON value$/],
    ['empty input', '', /^csr\.json:1:1: unexpected end of input; expected a JSON value$/],
  ];
  for (const [name, input, message] of cases) {
    test(name, () => {
      assert.throws(() => parseJson(input, 'csr.json'), (e: unknown) => {
        assert.ok(isEtcdTlsError(e));
        assert.equal(e.code, 'BAD_JSON');
        assert.match(e.message, message);
        return true;
      });
    });
  }

  test('nesting deeper than 512 levels is an error, not a stack overflow', () => {
    assert.throws(() => parseJson('['.repeat(100_000), 'deep.json'), /deep\.json:1:513: nested more than 512 levels deep/);
    assert.deepEqual(parseJson(`${'['.repeat(512)}${']'.repeat(512)}`, 'ok.json').value, JSON.parse(`${'['.repeat(512)}${']'.repeat(512)}`));
  });
});

describe('stringifyGo', () => {
  test("compact output escapes like Go's encoding/json", () => {
    assert.equal(stringifyGo({ cert: 'a<b>&c\u2028', csr: '\b\f\n\\b', key: undefined }), '{"cert":"a\\u003cb\\u003e\\u0026c\\u2028","csr":"\\u0008\\u000c\\n\\\\b"}');
  });

  test('indented output matches json.MarshalIndent(v, "", "  ") and prints big integers whole', () => {
    const n = 2n ** 100n;
    assert.equal(stringifyGo({ a: [], b: {}, c: [1, { d: null }], N: n }, '  '), `{\n  "a": [],\n  "b": {},\n  "c": [\n    1,\n    {\n      "d": null\n    }\n  ],\n  "N": ${n}\n}`);
  });

  test('round-trips through the parser', () => {
    const rand = prng(7);
    for (let i = 0; i < 500; i++) {
      const v = randomValue(rand, 0);
      assert.deepEqual(parseJson(stringifyGo(v as never), 'x').value, JSON.parse(JSON.stringify(v)));
    }
  });
});
