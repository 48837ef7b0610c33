// plainSpec vouches for a spec without zod: whatever it accepts, zod accepts with the same value, and
// the specs etcd-tls writes (and the bench's) take that path. Generated specs and mutations of them
// cover each field's types and ranges; anything plainSpec is unsure of must simply go to zod.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { DEFAULT_SPEC_YAML, renderSpecTemplate } from '../../src/cluster/defaults.js';
import { parseSpec, plainSpec, specSchema, validateSpec } from '../../src/cluster/spec.js';
import { REPO_ROOT } from '../helpers/components.js';

/** plainSpec either declines or agrees with zod: zod accepts, and its value equals the input. */
function agrees(data: unknown): boolean {
  const ours = plainSpec(data);
  if (ours === undefined) return false;
  assert.equal(ours, data);
  const theirs = specSchema().safeParse(data);
  assert.ok(theirs.success, `zod refuses what plainSpec accepted: ${JSON.stringify(data)}: ${theirs.error?.issues[0]?.message}`);
  assert.deepStrictEqual(theirs.data, data);
  return true;
}

const yamlValue = (text: string): unknown => parseDocument(text).toJS() as unknown;

function benchSpec(members: number): string {
  const lines = ['cluster: bench', 'ca: {cn: bench etcd CA, key: {algo: ecdsa, size: 256}}', 'defaults: {key: {algo: ecdsa, size: 256}}', 'members:'];
  for (let i = 1; i <= members; i++) lines.push(`  - {name: member${i}, ips: [10.0.${i >> 8}.${i & 255}]}`);
  lines.push('clients:', '  - {name: kube-apiserver, cn: kube-apiserver-etcd-client}', '  - {name: admin, cn: root}', '');
  return lines.join('\n');
}

// mulberry32: deterministic, so a failure names a reproducible case.
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('plainSpec', () => {
  test('the specs etcd-tls writes and the bench spec take the fast path, with the value zod gives', () => {
    const written = [
      DEFAULT_SPEC_YAML,
      renderSpecTemplate({ cluster: 'prod', members: [{ name: 'etcd1', address: '10.0.0.1' }, { name: 'etcd2', address: 'etcd2.example.com' }] }),
      benchSpec(100),
    ];
    for (const text of written) assert.equal(agrees(yamlValue(text)), true, `not taken:\n${text}`);
  });

  test('every spec fixture: accepted with zod\'s value, or left to zod; parseSpec gives the same spec either way', () => {
    const files = ['test/fixtures/specs', 'test/fixtures/cluster'].flatMap((dir) =>
      readdirSync(path.join(REPO_ROOT, dir))
        .filter((f) => f.endsWith('.yaml') || f.endsWith('.json'))
        .map((f) => path.join(REPO_ROOT, dir, f)),
    );
    let taken = 0;
    for (const file of files) {
      let data: unknown;
      try {
        data = yamlValue(readFileSync(file, 'utf8'));
      } catch {
        continue;
      }
      if (agrees(data)) taken++;
    }
    assert.ok(taken >= files.length / 3, `took ${taken} of ${files.length}`);
  });

  test('generated specs and their mutations: never a spec zod refuses, never a different value', () => {
    const rand = random(0x5eed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
    const maybe = (p: number): boolean => rand() < p;
    // Values that are right for some field and wrong for others, of every JSON and YAML type.
    const ODD: unknown[] = ['', 'member1', 'Member1', '-m', 'm-', 'a'.repeat(63), 'a'.repeat(64), '8760h', '10y', '1h30m', '5x', '0', 0, -0, 1, 2379, 65535, 65536,
      1.5, -1, NaN, Infinity, 256, 384, 521, 2048, 3072, 4096, 0.0, true, false, null, [], {}, ['x'], [''], [1], { algo: 'ecdsa' }, 'ecdsa', 'rsa', 'ed25519',
      'ECDSA', '10.0.0.1', '::1', 'x.example.com', '__proto__', 'constructor', undefined];
    const key = (): unknown => {
      if (maybe(0.1)) return pick(ODD);
      const algo = maybe(0.9) ? pick(['ecdsa', 'rsa', 'ed25519']) : pick(ODD);
      const k: Record<string, unknown> = { algo };
      if (maybe(0.6)) k.size = maybe(0.7) ? pick([256, 384, 521, 2048, 3072, 4096, 0]) : pick(ODD);
      if (maybe(0.05)) k[pick(['bits', 'curve', 'Size'])] = 1;
      return k;
    };
    const hostList = (): unknown => (maybe(0.9) ? Array.from({ length: Math.floor(rand() * 3) }, () => (maybe(0.9) ? pick(['10.0.0.1', '::1', 'm.example.com', '', '*.x.io']) : pick(ODD))) : pick(ODD));
    const sometimes = (o: Record<string, unknown>, field: string, value: () => unknown, p = 0.4): void => {
      if (maybe(p)) o[field] = value();
    };
    const port = (): unknown => (maybe(0.8) ? pick([1, 2379, 2380, 65535, 12379]) : pick(ODD));
    const duration = (): unknown => (maybe(0.8) ? pick(['8760h', '90m', '10y', '365d', '1h30m', '0.5h', '1µs']) : pick(ODD));
    const name = (): unknown => (maybe(0.9) ? pick(['member1', 'm', 'etcd-2', 'a1b2', 'x'.repeat(63)]) : pick(ODD));
    const text = (): unknown => (maybe(0.9) ? pick(['root', 'bench etcd CA', 'kube-apiserver-etcd-client', 'a b']) : pick(ODD));
    const extra = (o: Record<string, unknown>): void => {
      if (maybe(0.03)) o[pick(['extra', 'Name', 'ip', 'validty', '$schema', '__proto__'])] = pick(ODD);
    };
    const spec = (): unknown => {
      const s: Record<string, unknown> = { cluster: name() };
      sometimes(s, '$schema', () => (maybe(0.8) ? './spec.schema.json' : pick(ODD)), 0.1);
      sometimes(s, 'ca', () => {
        if (maybe(0.05)) return pick(ODD);
        const ca: Record<string, unknown> = {};
        sometimes(ca, 'cn', text);
        sometimes(ca, 'key', key);
        sometimes(ca, 'validity', duration);
        sometimes(ca, 'names', () => [{ O: 'x' }], 0.05);
        extra(ca);
        return ca;
      });
      sometimes(s, 'defaults', () => {
        if (maybe(0.05)) return pick(ODD);
        const d: Record<string, unknown> = {};
        sometimes(d, 'key', key);
        sometimes(d, 'validity', duration);
        sometimes(d, 'clientPort', port, 0.2);
        sometimes(d, 'peerPort', port, 0.2);
        extra(d);
        return d;
      });
      s.members = maybe(0.03)
        ? pick(ODD)
        : Array.from({ length: Math.floor(rand() * 4) + (maybe(0.95) ? 1 : 0) }, () => {
            if (maybe(0.02)) return pick(ODD);
            const m: Record<string, unknown> = { name: name() };
            for (const f of ['ips', 'dns', 'sans']) sometimes(m, f, hostList, f === 'ips' ? 0.8 : 0.2);
            sometimes(m, 'clientPort', port, 0.1);
            sometimes(m, 'peerPort', port, 0.1);
            sometimes(m, 'key', key, 0.1);
            sometimes(m, 'validity', duration, 0.1);
            extra(m);
            return m;
          });
      sometimes(s, 'clients', () =>
        maybe(0.05)
          ? pick(ODD)
          : Array.from({ length: Math.floor(rand() * 3) }, () => {
              const c: Record<string, unknown> = { name: name() };
              sometimes(c, 'cn', text);
              sometimes(c, 'o', () => (maybe(0.5) ? text() : [text(), text()]), 0.3);
              sometimes(c, 'key', key, 0.1);
              sometimes(c, 'validity', duration, 0.1);
              extra(c);
              return c;
            }),
      0.7);
      if (maybe(0.02)) delete s.cluster;
      extra(s);
      return s;
    };
    let taken = 0;
    let refusedByZod = 0;
    for (let i = 0; i < 6000; i++) {
      const data = spec();
      if (agrees(data)) taken++;
      else if (!specSchema().safeParse(data).success) refusedByZod++;
    }
    // Both paths are exercised: plenty of valid specs are vouched for, plenty of bad ones reach zod.
    assert.ok(taken > 600, `plainSpec took ${taken} of 6000`);
    assert.ok(refusedByZod > 600, `zod refused ${refusedByZod} of 6000`);
  });

  test('objects it cannot vouch for go to zod: another prototype, a symbol key, an own undefined', () => {
    const base = { cluster: 'c', members: [{ name: 'm', ips: ['10.0.0.1'] }] };
    assert.equal(agrees(base), true);
    assert.equal(plainSpec({ ...base, members: [Object.assign(Object.create({ inherited: 1 }) as object, { name: 'm' })] }), undefined);
    assert.equal(plainSpec({ ...base, [Symbol('s')]: 1 }), undefined);
    assert.equal(plainSpec({ ...base, ca: { cn: undefined } }), undefined);
    assert.equal(plainSpec(JSON.parse('{"cluster":"c","members":[{"name":"m"}],"__proto__":{}}')), undefined);
    const nullProto = Object.assign(Object.create(null) as object, base);
    assert.equal(plainSpec(nullProto), nullProto);
  });

  test('parseSpec gives the same spec through the fast path as the bench spec always did', () => {
    const spec = parseSpec(benchSpec(3), 'bench.yaml');
    assert.deepEqual(spec.members.map((m) => [m.name, m.ips, m.clientPort, m.peerPort, m.key, m.validity]), [
      ['member1', ['10.0.0.1'], 2379, 2380, { algo: 'ecdsa', size: 256 }, '8760h'],
      ['member2', ['10.0.0.2'], 2379, 2380, { algo: 'ecdsa', size: 256 }, '8760h'],
      ['member3', ['10.0.0.3'], 2379, 2380, { algo: 'ecdsa', size: 256 }, '8760h'],
    ]);
    assert.deepEqual(spec.clients.map((c) => [c.name, c.cn, c.o]), [['kube-apiserver', 'kube-apiserver-etcd-client', []], ['admin', 'root', []]]);
    assert.deepEqual(spec.ca, { cn: 'bench etcd CA', names: [], key: { algo: 'ecdsa', size: 256 }, validity: '87600h' });
  });
});

describe('control characters and oversized text anywhere in a spec', () => {
  const refused = (data: unknown): string => {
    try {
      validateSpec(data, 'x.yaml');
    } catch (e) {
      return (e as Error).message;
    }
    return 'accepted';
  };
  test('are reported with the path of the value or key that holds them', () => {
    const members = (extra: Record<string, unknown>) => [{ name: 'a', ips: ['10.0.0.1'] }, { name: 'b', ips: ['10.0.0.2'], ...extra }];
    assert.match(refused({ cluster: 'c', members: members({ dns: ['b\u0007x'] }) }), /^x\.yaml: members\[1\]\.dns\[0\]: contains a control character \(U\+0007 at character 2\)/);
    assert.match(refused({ cluster: 'c', members: members({ 'k\ney': 1 }) }), /^x\.yaml: members\[1\]\.k\?ey: contains a control character \(U\+000A at character 2\)/);
    assert.match(refused({ cluster: 'c', members: members({ dns: ['x'.repeat(5000)] }) }), /^x\.yaml: members\[1\]\.dns\[0\]: is 5000 characters long; the limit is 4096/);
    assert.equal(refused({ cluster: 'c', members: members({ dns: ['b.example.com'] }) }), 'accepted');
  });
});
