// Cluster size: etcd runs 3-7 members; a spec far past that is one coded line, never a V8 heap crash,
// and the realistic large case (5 members, 10,000 clients) plans in bounded memory.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { MAX_MEMBERS, memberCountWarnings, parseSpec } from '../../src/cluster/spec.js';
import { CLI_PATH, run } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';
import { rejects } from '../helpers/assertions.js';

function specText(members: number, clients: number): string {
  const lines = ['cluster: big', 'members:'];
  for (let i = 0; i < members; i++) lines.push(`  - { name: m${i}, ips: [10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}] }`);
  if (clients) lines.push('clients:');
  for (let i = 0; i < clients; i++) lines.push(`  - { name: c${i} }`);
  return `${lines.join('\n')}\n`;
}

/** The CLI under a small V8 heap: a quadratic blow-up fails the run instead of passing slowly. */
const cli = (args: string[], heapMb: number) => run(process.execPath, [`--max-old-space-size=${heapMb}`, CLI_PATH, ...args], { env: { PATH: process.env.PATH ?? '' } });

describe('cluster size', () => {
  test('more than MAX_MEMBERS members is TOO_MANY_MEMBERS naming the limit', () => {
    rejects(() => parseSpec(specText(MAX_MEMBERS + 1, 0), 'big.yaml'), 'TOO_MANY_MEMBERS', new RegExp(`^big\\.yaml: members: ${MAX_MEMBERS + 1} members; etcd-tls generates at most ${MAX_MEMBERS}`));
  });

  test("etcd's guidance: warnings past 7 members and on even counts, none for 1, 3, 5, 7", () => {
    const count = (n: number): string[] => memberCountWarnings({ members: new Array(n).fill(null) as never[] });
    for (const n of [1, 3, 5, 7]) assert.deepEqual(count(n), []);
    assert.match(count(4).join(), /4 members, an even count: it tolerates 1 failure, no more than 3 members would/);
    assert.equal(count(9).length, 1);
    assert.match(count(9).join(), /etcd recommends at most 7/);
    assert.equal(count(10).length, 2);
  });

  test('regression: plan of 10,000 members is one coded line and exit 1 under a 96 MB heap (was a V8 heap crash)', async (t) => {
    const dir = await makeTempDir(t, 'cluster-scale-');
    const spec = path.join(dir, 'big.yaml');
    writeFileSync(spec, specText(10_000, 0));
    const r = await cli(['plan', spec, '--out', path.join(dir, 'pki')], 96);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^etcd-tls: TOO_MANY_MEMBERS: .*big\.yaml: members: 10000 members; etcd-tls generates at most 1000 .*\n$/);
  });

  test('5 members and 10,000 clients: plan succeeds under a 192 MB heap', async (t) => {
    const dir = await makeTempDir(t, 'cluster-scale-clients-');
    const spec = path.join(dir, 'clients.yaml');
    writeFileSync(spec, specText(5, 10_000));
    const r = await cli(['plan', spec, '--out', path.join(dir, 'pki'), '--json'], 192);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const body = JSON.parse(r.stdout) as { certificates: unknown[] };
    assert.equal(body.certificates.length, 10 + 10_000);
  });

  test('regression: MAX_MEMBERS members plan (an initial-cluster list of 1,000 peers is written whole, not refused as too long)', async (t) => {
    const dir = await makeTempDir(t, 'cluster-scale-max-');
    const spec = path.join(dir, 'max.yaml');
    writeFileSync(spec, specText(MAX_MEMBERS, 0));
    const r = await cli(['plan', spec, '--out', path.join(dir, 'pki'), '--json'], 512);
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout) as { certificates: unknown[] };
    assert.equal(body.certificates.length, 2 * MAX_MEMBERS);
  });
});
