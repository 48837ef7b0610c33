// The plain-YAML reader that parseSpec tries before the `yaml` package: whenever it answers, its value
// is the one `yaml` gives; it answers for the specs people and `etcd-tls init` write.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { DEFAULT_SPEC_YAML, renderSpecTemplate } from '../../src/cluster/defaults.js';
import { readYamlSubset } from '../../src/cluster/syntax/yaml-subset.js';
import { REPO_ROOT } from '../helpers/components.js';

/** What parseSpec would get from `yaml`, or undefined when `yaml` reports an error. */
function byYaml(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true });
  return doc.errors.length ? undefined : doc.toJS();
}

/** The reader either passes or gives exactly `yaml`'s value. */
function agrees(text: string): boolean {
  const ours = readYamlSubset(text);
  if (ours === undefined) return false;
  assert.deepStrictEqual(ours, byYaml(text), `differs from yaml on:\n${text}`);
  return true;
}

const FIXTURES = ['test/fixtures/specs', 'test/fixtures/cluster'].flatMap((dir) =>
  readdirSync(path.join(REPO_ROOT, dir))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => path.join(REPO_ROOT, dir, f)),
);

function benchSpec(members: number): string {
  const lines = ['cluster: bench', 'ca: {cn: bench etcd CA, key: {algo: ecdsa, size: 256}}', 'defaults: {key: {algo: ecdsa, size: 256}}', 'members:'];
  for (let i = 1; i <= members; i++) lines.push(`  - {name: member${i}, ips: [10.0.${i >> 8}.${i & 255}]}`);
  lines.push('clients:', '  - {name: kube-apiserver, cn: kube-apiserver-etcd-client}', '  - {name: admin, cn: root}', '');
  return lines.join('\n');
}

describe('readYamlSubset', () => {
  test('reads the specs etcd-tls writes and the bench spec, with the value yaml gives', () => {
    const written = [
      DEFAULT_SPEC_YAML,
      renderSpecTemplate({ cluster: 'prod', members: [{ name: 'etcd1', address: '10.0.0.1' }, { name: 'etcd2', address: 'etcd2.example.com' }] }),
      benchSpec(100),
    ];
    for (const text of written) assert.equal(agrees(text), true, `not read:\n${text}`);
  });

  test('every spec fixture: the same value as yaml, or left to yaml', () => {
    let read = 0;
    for (const file of FIXTURES) if (agrees(readFileSync(file, 'utf8'))) read++;
    // Most fixtures are plain YAML: the reader must not quietly stop reading them.
    assert.ok(read >= FIXTURES.length / 2, `read ${read} of ${FIXTURES.length}`);
  });

  test('leaves to yaml what it is not sure of', () => {
    for (const text of [
      'a: 0x1F\n', 'a: 1e3\n', 'a: 012\n', 'a: 1.5\n', 'a: ~\n', 'a: .inf\n', 'a: -1\n', 'a: yes: no\n', 'a: b\na: c\n',
      'a: &x 1\nb: *x\n', 'a: !!str 1\n', 'a: |\n  text\n', 'a: "x\\ty"\n', 'a:\tb\n', 'a: b\r\n', '---\na: b\n', 'a: [1, 2\n', 'a: b\n  c\n',
      'null: 1\n', 'a: "x # y"\n', 'a: b#c\n', '- a\n', 'a: 12345678901234567\n', '__proto__: 1\n', 'a: {b: 1, b: 2}\n',
    ])
      assert.equal(readYamlSubset(text), undefined, JSON.stringify(text));
  });

  test('generated documents and their one-character mutations: never a value yaml would not give', () => {
    // A small deterministic generator (mulberry32) over the shapes a spec uses and the scalars that trip readers.
    let seed = 0x5eed;
    const rand = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
    const SCALARS = ['member1', '10.0.0.1', '8760h', '10y', '0', '42', '0123', '1e3', '1.5', '0x1F', '0o17', 'true', 'False', 'NULL', 'null', '~', 'yes',
      'a b', 'a  b', 'a:b', 'a: b', 'a #b', 'a#b', '::1', 'fd00::1', '-x', '.5', '"q"', "'q'", '"a,b"', '"a # b"', '/etc/etcd', 'x@y', 'a=b', 'CA', ''];
    const KEYS = ['name', 'ips', 'cn', 'key', 'a', 'b', 'true', 'x-y', 'n_1'];
    const flow = (depth: number): string => {
      const r = rand();
      if (depth > 2 || r < 0.5) return pick(SCALARS);
      if (r < 0.75) return `[${Array.from({ length: Math.floor(rand() * 3) }, () => flow(depth + 1)).join(pick([', ', ',', ' , ']))}]`;
      return `{${Array.from({ length: Math.floor(rand() * 3) }, () => `${pick(KEYS)}: ${flow(depth + 1)}`).join(', ')}}`;
    };
    const block = (indent: string, depth: number): string[] => {
      const out: string[] = [];
      const seq = depth > 0 && rand() < 0.4;
      for (let n = 1 + Math.floor(rand() * 3); n > 0; n--) {
        if (seq) {
          if (depth < 3 && rand() < 0.4) {
            const inner = block(`${indent}  `, depth + 1);
            out.push(`${indent}- ${(inner[0] ?? '').trimStart()}`, ...inner.slice(1));
          } else out.push(`${indent}- ${flow(1)}`);
        } else if (depth < 3 && rand() < 0.3) out.push(`${indent}${pick(KEYS)}:`, ...block(`${indent}${pick(['  ', '    ', ' '])}`, depth + 1));
        else out.push(`${indent}${pick(KEYS)}: ${flow(0)}${rand() < 0.1 ? ' # note' : ''}`);
        if (rand() < 0.1) out.push(`${indent}# comment`);
      }
      return out;
    };
    let read = 0;
    for (let i = 0; i < 3000; i++) {
      const text = `${block('', 0).join('\n')}\n`;
      if (agrees(text)) read++;
      const at = Math.floor(rand() * text.length);
      agrees(text.slice(0, at) + pick([' ', '-', ':', '#', ',', '[', ']', '{', '}', '"', "'", '\n', '  ', '\t', 'x']) + text.slice(at + 1));
      agrees(text.slice(0, at) + text.slice(at + 1));
    }
    assert.ok(read > 300, `only ${read} of 3000 generated documents read: the generator no longer exercises the reader`);
  });
});
