// What `gen` decides about a directory that already holds a cluster: renewal near expiry, and repair
// of what a person or a bad copy broke (a lost key, swapped keys, a certificate of another CA, an
// edited or deleted config file). In-process with an injected clock, so "30 days before expiry" is exact.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { generateCluster, planFromSpec } from '../../src/cluster/generate.js';
import type { ClusterPlan } from '../../src/cluster/plan.js';
import { parseSpec, type ClusterSpec } from '../../src/cluster/spec.js';
import type { Clock } from '../../src/pki/issue.js';
import { REPO_ROOT } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

const DAY = 86_400_000;
const T0 = Date.parse('2030-01-01T00:00:00Z');
const at = (ms: number): Clock => ({ now: () => new Date(ms) });
const spec: ClusterSpec = parseSpec(readFileSync(path.join(REPO_ROOT, 'test/fixtures/cluster/gen.yaml'), 'utf8'), 'gen.yaml');

/** `relative cert path → action (reasons)` for every certificate that is not kept. */
function changes(plan: ClusterPlan): Record<string, string> {
  return Object.fromEntries(
    plan.certificates
      .filter((c) => c.action !== 'keep')
      .map((c) => [path.relative(plan.layout.dir, c.certPath), `${c.action} (${c.reasons.join('; ')})`]),
  );
}
const fileActions = (plan: ClusterPlan): Record<string, string> =>
  Object.fromEntries(plan.files.filter((f) => f.action !== 'keep').map((f) => [path.relative(plan.layout.dir, f.path), f.action]));

describe('gen renews certificates 30 days before they expire', () => {
  let out = '';
  before(async () => {
    out = path.join(await makeTempDir('file', 'cluster-plan-renew-'), 'pki');
    await generateCluster(spec, { out, clock: at(T0) });
  });

  test('31 days before expiry (leaf validity 8760h, backdated 5 min) everything is kept', async () => {
    const plan = await planFromSpec(spec, { out }, at(T0 + 334 * DAY));
    assert.deepEqual(changes(plan), {});
    assert.equal(plan.ca.action, 'keep');
  });

  test('29 days before expiry every leaf is reissued, the CA kept; the next run keeps them again', async () => {
    const later = at(T0 + 336 * DAY);
    const plan = await planFromSpec(spec, { out }, later);
    assert.equal(plan.certificates.length, 8);
    assert.ok(plan.certificates.every((c) => c.action === 'reissue' && /^due for renewal \(expires 2030-12-31T23:55:00Z\)$/.test(c.reasons.join())), JSON.stringify(changes(plan)));
    assert.equal(plan.ca.action, 'keep');

    const { result } = await generateCluster(spec, { out, clock: later });
    assert.equal(result.caCreated, false);
    assert.equal(result.issued.length, 8);
    assert.deepEqual(changes(await planFromSpec(spec, { out }, later)), {});
  });

  test('an expired certificate says so', async () => {
    const plan = await planFromSpec(spec, { out }, at(T0 + 336 * DAY + 400 * DAY));
    assert.ok(plan.certificates.every((c) => c.reasons.includes('expired')));
  });
});

describe('gen repairs a damaged directory, touching only what is damaged', () => {
  let out = '';
  const now = at(T0);
  const file = (rel: string): string => path.join(out, rel);
  before(async () => {
    out = path.join(await makeTempDir('file', 'cluster-plan-repair-'), 'pki');
    await generateCluster(spec, { out, clock: now });
  });

  test('a lost key: only that certificate is reissued', async () => {
    rmSync(file('clients/backup/client-key.pem'));
    assert.deepEqual(changes(await planFromSpec(spec, { out }, now)), { 'clients/backup/client.pem': 'reissue (key file missing)' });
    await generateCluster(spec, { out, clock: now });
    assert.deepEqual(changes(await planFromSpec(spec, { out }, now)), {});
  });

  test('keys swapped between two certificates: both are reissued', async () => {
    const server = file('nodes/member1/server-key.pem');
    const peer = file('nodes/member1/peer-key.pem');
    renameSync(server, `${server}.tmp`);
    renameSync(peer, server);
    renameSync(`${server}.tmp`, peer);
    assert.deepEqual(changes(await planFromSpec(spec, { out }, now)), {
      'nodes/member1/server.pem': 'reissue (key does not match certificate)',
      'nodes/member1/peer.pem': 'reissue (key does not match certificate)',
    });
    await generateCluster(spec, { out, clock: now });
    assert.deepEqual(changes(await planFromSpec(spec, { out }, now)), {});
  });

  test('a certificate copied in from another cluster with the same CA name is reissued', async (t) => {
    const other = path.join(await makeTempDir(t, 'cluster-plan-other-'), 'pki');
    await generateCluster(spec, { out: other, clock: now });
    for (const f of ['nodes/member3/server.pem', 'nodes/member3/server-key.pem']) copyFileSync(path.join(other, f), file(f));
    assert.deepEqual(changes(await planFromSpec(spec, { out }, now)), { 'nodes/member3/server.pem': 'reissue (issued by another CA)' });
    await generateCluster(spec, { out, clock: now });
    assert.deepEqual(changes(await planFromSpec(spec, { out }, now)), {});
  });

  test('an edited config file is restored and a deleted one recreated; no certificate is touched', async () => {
    writeFileSync(file('nodes/member2/etcd.env'), `${readFileSync(file('nodes/member2/etcd.env'), 'utf8')}ETCD_DEBUG="true"\n`);
    rmSync(file('clients/kube-apiserver/kube-apiserver.flags'));
    const plan = await planFromSpec(spec, { out }, now);
    assert.deepEqual(changes(plan), {});
    assert.deepEqual(fileActions(plan), { 'nodes/member2/etcd.env': 'update', 'clients/kube-apiserver/kube-apiserver.flags': 'create' });
    await generateCluster(spec, { out, clock: now });
    assert.doesNotMatch(readFileSync(file('nodes/member2/etcd.env'), 'utf8'), /ETCD_DEBUG/);
    assert.deepEqual(fileActions(await planFromSpec(spec, { out }, now)), {});
  });
});

describe('gen with short validities (the renewal window is a third of the lifetime, at most 30 days)', () => {
  const withValidity = (validity: string): ClusterSpec => parseSpec(`${readFileSync(path.join(REPO_ROOT, 'test/fixtures/cluster/gen.yaml'), 'utf8')}defaults: { validity: ${validity} }\n`, 'gen.yaml');

  test('regression: validity 720h: a second run an hour later keeps everything (the 30-day window reissued it all)', async (t) => {
    const out = path.join(await makeTempDir(t, 'cluster-plan-720h-'), 'pki');
    const short = withValidity('720h');
    await generateCluster(short, { out, clock: at(T0) });
    assert.deepEqual(changes(await planFromSpec(short, { out }, at(T0 + 3_600_000))), {});
    const due = await planFromSpec(short, { out }, at(T0 + 21 * DAY));
    assert.ok(due.certificates.every((c) => c.action === 'reissue' && /^due for renewal/.test(c.reasons.join())), JSON.stringify(changes(due)));
  });

  test('regression: validity 2m issues certificates valid for 2 minutes from now, kept by a run a minute later', async (t) => {
    const out = path.join(await makeTempDir(t, 'cluster-plan-2m-'), 'pki');
    const short = withValidity('2m');
    const { result } = await generateCluster(short, { out, clock: at(T0) });
    assert.equal(result.issued.length, 8);
    const pem = readFileSync(path.join(out, 'nodes/member1/server.pem'), 'utf8');
    const { X509Certificate } = await import('node:crypto');
    const cert = new X509Certificate(pem);
    assert.equal(new Date(cert.validTo).getTime(), T0 + 120_000);
    assert.deepEqual(changes(await planFromSpec(short, { out }, at(T0 + 60_000))), {});
    assert.ok((await planFromSpec(short, { out }, at(T0 + 100_000))).certificates.every((c) => c.action === 'reissue'));
  });
});

describe('up (gen --local) never rewrites a directory generated for the hosts', () => {
  test('regression: gen then a --local run over the same directory is WOULD_OVERWRITE, every file as it was', async (t) => {
    const out = path.join(await makeTempDir(t, 'cluster-plan-local-'), 'pki');
    await generateCluster(spec, { out, clock: at(T0) });
    const env = readFileSync(path.join(out, 'nodes/member1/etcd.env'), 'utf8');
    const ctl = readFileSync(path.join(out, 'clients/backup/etcdctl.env'), 'utf8');
    await assert.rejects(
      generateCluster(spec, { out, local: true, clock: at(T0) }),
      (e: unknown) => e instanceof Error && 'code' in e && e.code === 'WOULD_OVERWRITE' && /generated for the hosts .*etcd-tls up SPEC --out .*pki-local$/.test(e.message),
    );
    assert.equal(readFileSync(path.join(out, 'nodes/member1/etcd.env'), 'utf8'), env);
    assert.equal(readFileSync(path.join(out, 'clients/backup/etcdctl.env'), 'utf8'), ctl);
    assert.match(env, /\/etc\/etcd\//);
  });

  test('a directory made by --local runs again in place', async (t) => {
    const out = path.join(await makeTempDir(t, 'cluster-plan-local2-'), 'pki');
    await generateCluster(spec, { out, local: true, clock: at(T0) });
    assert.deepEqual(changes(await planFromSpec(spec, { out, local: true }, at(T0))), {});
  });
});
