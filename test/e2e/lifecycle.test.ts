// Day 2 on a live etcd 3.4 cluster (127.0.0.131-133) with a writer putting a key every 100 ms through
// everything: renew one member, then everything with new keys, and the members serve the new
// certificates without a restart (same PIDs, new serials on the wire); revoke a client and a member and
// etcd refuses them from its re-read CRL; the writer (kube-apiserver's bundle) loses nothing.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { countReadable, httpsTargets, startWriter, type Writer } from '../../bench/migrate.js';
import { readSpecFile } from '../../src/cluster/generate.js';
import { layoutCluster, type ClusterLayout } from '../../src/cluster/layout.js';
import { membersInDir, stopMembers } from '../../src/cluster/local.js';
import { etcdTls, findBinary, requireBinary, run, type RunResult } from '../helpers/components.js';
import { etcdctl } from '../helpers/etcd.js';
import { makeTempDir } from '../helpers/tmp.js';

const NAMES = ['m1', 'm2', 'm3'] as const;
const IPS = ['127.0.0.131', '127.0.0.132', '127.0.0.133'] as const;
const haveAll = ['etcd', 'etcdctl', 'openssl', 'curl'];

/** The serial of the certificate a TLS server presents (lower-case hex, as openssl x509 -serial). */
async function servedSerial(host: string, port: number, client: { cert: string; key: string; ca: string }): Promise<string> {
  const r = await run('openssl', ['s_client', '-connect', `${host}:${port}`, '-cert', client.cert, '-key', client.key, '-CAfile', client.ca, '-showcerts'], { stdin: '', timeoutMs: 10_000 });
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(r.stdout)?.[0];
  assert.ok(pem, `no certificate from ${host}:${port}: ${r.stderr}`);
  return new X509Certificate(pem).serialNumber.toLowerCase().replace(/^0+(?=.)/, '');
}
const fileSerial = (file: string): string => new X509Certificate(readFileSync(file)).serialNumber.toLowerCase().replace(/^0+(?=.)/, '');

/** Poll `check` until it returns true or `ms` passes; returns how long it took (for diagnostics only). */
async function eventually(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > ms) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('day 2 on a live etcd 3.4 cluster under writes', () => {
  let dir = '';
  let out = '';
  let layout: ClusterLayout;
  let writer: Writer | undefined;
  let pidsAtStart: string[] = [];
  const pids = (): string[] => NAMES.map((n) => readFileSync(path.join(out, 'nodes', n, 'etcd.pid'), 'utf8').trim());
  const bundle = (client: string) => ({ cacert: path.join(out, 'clients', client, 'ca.pem'), cert: path.join(out, 'clients', client, 'client.pem'), key: path.join(out, 'clients', client, 'client-key.pem') });
  const peer = (m: string) => ({ ca: path.join(out, 'nodes', m, 'ca.pem'), cert: path.join(out, 'nodes', m, 'peer.pem'), key: path.join(out, 'nodes', m, 'peer-key.pem') });
  const server = (m: string) => ({ ca: path.join(out, 'nodes', m, 'ca.pem'), cert: path.join(out, 'nodes', m, 'server.pem'), key: path.join(out, 'nodes', m, 'server-key.pem') });
  const cli = (...args: string[]): Promise<RunResult> => etcdTls(args, { cwd: dir, timeoutMs: 120_000 });
  const endpoints = IPS.map((ip) => `https://${ip}:2379`);
  const needsAll = (t: TestContext): boolean => haveAll.every((b) => requireBinary(t, b));

  before(async () => {
    dir = await makeTempDir('file', 'lifecycle-');
    out = path.join(dir, 'pki');
    if (!haveAll.every((b) => findBinary(b))) return;
    const init = await cli('init', '--members', NAMES.map((n, i) => `${n}=${IPS[i]}`).join(','));
    writeFileSync(path.join(dir, 'cluster.yaml'), init.stdout);
    const up = await cli('up', 'cluster.yaml', '--out', 'pki');
    assert.equal(up.code, 0, up.stderr);
    layout = layoutCluster(readSpecFile(path.join(dir, 'cluster.yaml')), { dir: out, local: true });
    pidsAtStart = pids();
    writer = startWriter({ targets: httpsTargets(layout, 'kube-apiserver'), prefix: '/lifecycle/writer/' });
  });
  after(async () => {
    await writer?.stop();
    await stopMembers(membersInDir(out));
  });

  test('renew --member m1: the new serial is served on m1 client and peer ports without a restart', async (t) => {
    if (!needsAll(t)) return;
    const before = { client: await servedSerial(IPS[0], 2379, server('m2')), peer: await servedSerial(IPS[0], 2380, peer('m2')) };
    assert.equal(before.client, fileSerial(server('m1').cert));
    const r = await cli('renew', 'pki', '--member', 'm1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /etcd member m1 reads its certificates and keys on every new TLS handshake: no restart/);
    const want = { client: fileSerial(server('m1').cert), peer: fileSerial(peer('m1').cert) };
    assert.notEqual(want.client, before.client);
    assert.ok(r.stdout.includes(want.client) && r.stdout.includes(want.peer), r.stdout);
    const ms = await eventually('m1 serves the renewed certificates', async () =>
      (await servedSerial(IPS[0], 2379, server('m2'))) === want.client && (await servedSerial(IPS[0], 2380, peer('m2'))) === want.peer);
    t.diagnostic(`new serials served after ${ms} ms`);
    assert.deepEqual(pids(), pidsAtStart, 'no member restarted');
  });

  test('renew --all --rekey: every member serves its new certificate (new key) without a restart; clients get new keys', async (t) => {
    if (!needsAll(t)) return;
    const keysBefore = NAMES.map((n) => readFileSync(server(n).key, 'utf8'));
    const r = await cli('renew', 'pki', '--all', '--rekey', '--json');
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { renewed: { name: string; rekeyed: boolean; pickup: string }[] };
    assert.equal(result.renewed.length, 8);
    assert.ok(result.renewed.every((x) => x.rekeyed));
    assert.equal(result.renewed.find((x) => x.name === 'kube-apiserver')?.pickup, 'restart');
    assert.equal(result.renewed.find((x) => x.name === 'm2/peer')?.pickup, 'next-handshake');
    NAMES.forEach((n, i) => assert.notEqual(readFileSync(server(n).key, 'utf8'), keysBefore[i], `${n}'s key changed`));
    for (const [i, n] of NAMES.entries()) {
      const want = { client: fileSerial(server(n).cert), peer: fileSerial(peer(n).cert) };
      const other = NAMES[(i + 1) % 3] as string;
      await eventually(`${n} serves its rekeyed certificates`, async () =>
        (await servedSerial(IPS[i] as string, 2379, server(other))) === want.client && (await servedSerial(IPS[i] as string, 2380, peer(other))) === want.peer);
    }
    const put = await etcdctl(['put', '/lifecycle/after-rekey', 'yes'], { endpoints, ...bundle('admin') });
    assert.equal(put.code, 0, put.stderr);
    assert.deepEqual(pids(), pidsAtStart, 'no member restarted');
  });

  test('revoke --client admin: etcdctl and curl with the admin bundle are refused, kube-apiserver keeps working, no restart', async (t) => {
    if (!needsAll(t)) return;
    assert.equal((await etcdctl(['get', '/x'], { endpoints: endpoints[0] as string, ...bundle('admin') })).code, 0);
    const r = await cli('revoke', 'pki', '--client', 'admin', '--reason', 'keyCompromise');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /renew pki --client admin --rekey/);
    const ms = await eventually('etcd refuses the revoked admin certificate', async () =>
      (await etcdctl(['get', '/x', '--command-timeout=2s'], { endpoints: endpoints[0] as string, ...bundle('admin'), timeoutMs: 10_000 })).code !== 0);
    t.diagnostic(`admin refused ${ms} ms after revoke returned`);
    const a = bundle('admin');
    const curl = await run('curl', ['-sS', '--max-time', '5', '--cacert', a.cacert, '--cert', a.cert, '--key', a.key, `${endpoints[1]}/health`]);
    assert.notEqual(curl.code, 0, `curl with the revoked admin certificate got: ${curl.stdout}`);
    const kube = await etcdctl(['put', '/lifecycle/kube', 'ok'], { endpoints, ...bundle('kube-apiserver') });
    assert.equal(kube.code, 0, kube.stderr);
    const again = await cli('revoke', 'pki', '--client', 'admin');
    assert.equal(again.code, 0);
    assert.match(again.stdout, /already revoked admin .*unchanged\nnothing to do/);
    assert.deepEqual(pids(), pidsAtStart, 'no member restarted');
  });

  test('the CRL verifies against the CA with openssl and status shows the revocation', async (t) => {
    if (!needsAll(t)) return;
    const v = await run('openssl', ['crl', '-inform', 'DER', '-in', path.join(out, 'crl.der'), '-CAfile', path.join(out, 'ca.pem'), '-noout'], {});
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stderr + v.stdout, /verify OK/);
    const s = await cli('status', 'pki', '--json');
    assert.equal(s.code, 4, 'a revoked certificate still in DIR is critical');
    const j = JSON.parse(s.stdout) as { certificates: { name: string; revoked: boolean }[] };
    assert.deepEqual(j.certificates.filter((c) => c.revoked).map((c) => c.name), ['admin']);
  });

  test('revoke --member m3: m1 and m2 refuse m3 on their peer ports; the others keep serving', async (t) => {
    if (!needsAll(t)) return;
    // etcd checks the CRL on every connection it accepts: a fresh one with m3's peer certificate shows it
    // (m3's own raft streams are long-lived connections accepted before the revocation).
    const accepted = async (target: string, as: ReturnType<typeof peer>): Promise<boolean> =>
      (await run('curl', ['-sS', '--http1.1', '--max-time', '5', '--cacert', as.ca, '--cert', as.cert, '--key', as.key, `https://${target}:2380/version`])).code === 0;
    assert.equal(await accepted(IPS[0], peer('m3')), true, 'm1 accepts m3 before the revocation');
    const r = await cli('revoke', 'pki', '--member', 'm3', '--reason', 'cessationOfOperation');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /member m3: its peer and client traffic is now refused by the others: remove it/);
    for (const ip of [IPS[0], IPS[1]]) await eventually(`${ip} refuses m3's revoked peer certificate`, async () => !(await accepted(ip, peer('m3'))));
    assert.equal(await accepted(IPS[0], peer('m2')), true, 'm1 still accepts m2');
    const put = await etcdctl(['put', '/lifecycle/after-m3', 'ok'], { endpoints: endpoints.slice(0, 2), ...bundle('kube-apiserver') });
    assert.equal(put.code, 0, put.stderr);
    assert.deepEqual(pids(), pidsAtStart, 'no member restarted');
  });

  test('the writer lost nothing through all of it', async (t) => {
    if (!needsAll(t)) return;
    const w = await writer!.stop();
    writer = undefined;
    t.diagnostic(`writer: ${w.attempted} attempted, ${w.acknowledged.size} acknowledged, ${w.failovers} failovers, slowest ${w.maxLatencyMs} ms`);
    assert.deepEqual(w.failed, []);
    assert.ok(w.acknowledged.size >= 20, `only ${w.acknowledged.size} writes acknowledged`);
    const target = httpsTargets(layout, 'kube-apiserver')()[0];
    assert.equal(await countReadable(w, target!, '/lifecycle/writer/'), w.acknowledged.size);
  });
});
