// Issue #4, "how it must be shown": the well-known etcd TLS failures (reference §8) produced for real
// with etcd 3.4, one single-member cluster each, and `probe` or `explain` (fed etcd's or etcdctl's own
// words) naming each with the right fix. Certificates come from src/pki directly, so each can be
// broken in exactly one way. Addresses: 127.0.0.65-70 only.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { etcdTls, requireBinary, type RunResult } from '../helpers/components.js';
import { etcdctl, startMember, urlFlags, waitHealthy, type MemberHandle, type MemberSpec } from '../helpers/etcd.js';
import { makeTempDir } from '../helpers/tmp.js';
import { caProfile, ETCD_PROFILES, type Profile } from '../../src/pki/profile.js';
import { issueCertificate, type Clock } from '../../src/pki/issue.js';
import { loadIssuer, type Issuer } from '../../src/pki/certificate.js';
import { encodePrivateKeyPem, generateKeyPair, spkiDer } from '../../src/pki/keys.js';
import { toPem } from '../../src/pki/pem.js';
import { parseUsages } from '../../src/pki/extensions.js';
import { finding, probeJson } from '../helpers/probe.js';

interface Pair {
  cert: string;
  key: string;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;

function makeCa(cn: string): Pair & { issuer: Issuer } {
  const { privateKey } = generateKeyPair({ algo: 'ecdsa', size: 256 });
  const req = { subject: [{ type: 'CN' as const, value: cn }], publicKey: spkiDer(privateKey), sans: { dns: [], ips: [], emails: [], uris: [] }, ca: {} };
  // Valid from 2020 to 2035: test (e) issues a leaf that expired in 2021, and a CA refuses to issue before its own notBefore.
  const since2020: Clock = { now: () => new Date('2020-12-01T00:00:00Z') };
  const { der } = issueCertificate(req, caProfile(15 * 365 * DAY), { selfSigned: true, privateKey }, since2020);
  const cert = toPem('CERTIFICATE', der);
  const key = encodePrivateKeyPem(privateKey);
  return { cert, key, issuer: loadIssuer(cert, 'ca.pem', key, 'ca-key.pem') };
}

function issueLeaf(ca: Issuer, cn: string, opts: { ips?: string[]; dns?: string[]; profile?: Profile; clock?: Clock } = {}): Pair {
  const { privateKey } = generateKeyPair({ algo: 'ecdsa', size: 256 });
  const req = { subject: [{ type: 'CN' as const, value: cn }], publicKey: spkiDer(privateKey), sans: { dns: opts.dns ?? [], ips: opts.ips ?? [], emails: [], uris: [] } };
  const { der } = issueCertificate(req, opts.profile ?? { ...ETCD_PROFILES.server, expiryMs: 7 * DAY }, ca, opts.clock);
  return { cert: toPem('CERTIFICATE', der), key: encodePrivateKeyPem(privateKey) };
}

/** Write PEM files into dir; returns their paths. */
function writePair(dir: string, name: string, pair: Pair): { cert: string; key: string } {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}-key.pem`);
  writeFileSync(cert, pair.cert);
  writeFileSync(key, pair.key, { mode: 0o600 });
  return { cert, key };
}

interface Single {
  dir: string;
  ca: ReturnType<typeof makeCa>;
  caFile: string;
  client: { cacert: string; cert: string; key: string };
  spec: MemberSpec;
}

/** A CA, a client certificate and the paths for one single-member cluster on `ip`. */
async function prepare(t: TestContext, name: string, ip: string): Promise<Single> {
  const dir = await makeTempDir(t, `probe-${name}-`);
  const ca = makeCa(`${name} test CA`);
  const caFile = path.join(dir, 'ca.pem');
  writeFileSync(caFile, ca.cert);
  const client = { cacert: caFile, ...writePair(dir, 'client', issueLeaf(ca.issuer, 'root', { profile: { ...ETCD_PROFILES.client, expiryMs: 7 * DAY } })) };
  return { dir, ca, caFile, client, spec: { name, ip, clientPort: 2379, peerPort: 2380, dataDir: path.join(dir, 'data'), logLines: 2_000 } };
}

/** etcd flags for an https client port with client-cert-auth, and a peer port over `peer`. */
function tlsArgs(s: Single, server: { cert: string; key: string }, peer: 'http' | 'https', extra: string[] = []): string[] {
  const peerFiles = peer === 'https' ? writePair(s.dir, 'peer', issueLeaf(s.ca.issuer, s.spec.name, { ips: [s.spec.ip, '127.0.0.1'], profile: { ...ETCD_PROFILES.peer, expiryMs: 7 * DAY } })) : undefined;
  return [
    ...urlFlags(s.spec, [s.spec], { client: 'https', peer }),
    `--cert-file=${server.cert}`,
    `--key-file=${server.key}`,
    `--trusted-ca-file=${s.caFile}`,
    '--client-cert-auth',
    ...(peerFiles
      ? [`--peer-cert-file=${peerFiles.cert}`, `--peer-key-file=${peerFiles.key}`, `--peer-trusted-ca-file=${s.caFile}`, '--peer-client-cert-auth']
      : []),
    ...extra,
  ];
}

/** Wait until the member logs `re`, or fail with its log when it exits or the time is up. */
async function waitForLog(m: MemberHandle, re: RegExp, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!re.test(m.logs())) {
    if (!m.running || Date.now() > deadline) assert.fail(`member ${m.name} never logged ${re} (${m.running ? 'timed out' : 'exited'}):\n${m.logs().split('\n').slice(-15).join('\n')}`);
    await sleep(100);
  }
}

/** Wait for the member to exit by itself (it is stopped if it does not). */
async function waitForExit(m: MemberHandle, timeoutMs = 20_000): Promise<number | null> {
  // Unref'd, or the pending timer would keep the test process alive after the member has exited.
  const timer = sleep(timeoutMs, undefined, { ref: false }).then(() => 'timeout' as const);
  const r = await Promise.race([m.exited, timer]);
  if (r === 'timeout') {
    await m.stop();
    assert.fail(`member ${m.name} was expected to exit by itself:\n${m.logs().split('\n').slice(-15).join('\n')}`);
  }
  return r;
}




interface ExplainJson {
  id: string;
  fix: string;
  cause: string;
  evidence: string;
}

/** `etcd-tls explain --json` on a log, as a user pipes it. */
async function explain(log: string): Promise<ExplainJson[]> {
  const r = await etcdTls(['explain', '--json'], { stdin: log });
  assert.equal(r.code, 0, `explain recognised nothing in:\n${log.slice(-3000)}\n${r.stderr}`);
  return JSON.parse(r.stdout) as ExplainJson[];
}

function entry(found: ExplainJson[], id: string): ExplainJson {
  const e = found.find((x) => x.id === id);
  assert.ok(e, `explain did not name ${id}; it named ${found.map((x) => x.id).join(', ')}`);
  return e;
}

/** etcdctl shows the TLS error only in gRPC's log, which --debug turns on (for `get`, not `endpoint health`). */
const etcdctlDebug = (endpoint: string, s: Single): Promise<RunResult> =>
  etcdctl(['--debug', '--command-timeout=3s', 'get', 'probe'], { endpoints: endpoint, ...s.client, timeoutMs: 20_000 });

const args = (s: Single): string[] => [`https://${s.spec.ip}:2379`, '--cacert', s.client.cacert, '--cert', s.client.cert, '--key', s.client.key];


describe('probe and explain name real etcd failures', { concurrency: false }, () => {
  test('(a) server certificate without clientAuth: /health answers, the gateway does not; probe names it', async (t) => {
    if (!requireBinary(t, 'etcd')) return;
    const s = await prepare(t, 'noclientauth', '127.0.0.65');
    const serverOnly: Profile = { ...ETCD_PROFILES.server, name: 'server-only', usages: parseUsages(['digital signature', 'key encipherment', 'server auth']), expiryMs: 7 * DAY };
    const server = writePair(s.dir, 'server', issueLeaf(s.ca.issuer, 'noclientauth', { ips: ['127.0.0.65'], profile: serverOnly }));
    const m = await startMember({ ...s.spec, args: tlsArgs(s, server, 'https') });
    try {
      await waitHealthy('https://127.0.0.65:2379', { ca: s.client.cacert, cert: s.client.cert, key: s.client.key }, 30_000, [m]);
      const { r, report } = await probeJson(args(s));
      assert.equal(r.code, 1, r.stderr);
      const ep = report.endpoints[0];
      assert.equal(ep?.health.healthy, true, 'health still answers');
      assert.equal(ep?.members.status, 'failed');
      const f = finding(report, 'server-cert-missing-clientauth');
      assert.equal(f.severity, 'error');
      assert.ok(f.seeAlso?.includes('server-cert-missing-clientauth'));
      assert.match(f.message, /lacks clientAuth/);
      assert.match(f.fix, /serverAuth and clientAuth/);
      // etcd's own side of it: the gateway's connections refused, which explain names as failure #1.
      await waitForLog(m, /rejected connection.*incompatible key usage/);
      const e = entry(await explain(m.logs()), 'server-cert-missing-clientauth');
      assert.match(e.fix, /both serverAuth and clientAuth/);
    } finally {
      await m.stop();
    }
  });

  test('(e) expired server certificate: probe and etcdctl both see it; explain names it', async (t) => {
    if (!requireBinary(t, 'etcd') || !requireBinary(t, 'etcdctl')) return;
    const s = await prepare(t, 'expired', '127.0.0.66');
    const past: Clock = { now: () => new Date('2021-01-01T00:00:00Z') };
    const server = writePair(s.dir, 'server', issueLeaf(s.ca.issuer, 'expired', { ips: ['127.0.0.66'], profile: { ...ETCD_PROFILES.server, expiryMs: 24 * HOUR }, clock: past }));
    const m = await startMember({ ...s.spec, args: tlsArgs(s, server, 'https') });
    try {
      await waitForLog(m, /serving client requests on 127\.0\.0\.66:2379/);
      const { r, report } = await probeJson(args(s));
      assert.equal(r.code, 1, r.stderr);
      const f = finding(report, 'server-cert-expired');
      assert.ok(f.seeAlso?.includes('cert-expired'));
      assert.match(f.message, /current time \S+ is after 2021-01-01T23:55:00Z/);
      assert.match(f.fix, /renew the server certificate/);
      assert.equal(report.endpoints[0]?.health.status, 'skipped');

      const ctl = await etcdctlDebug('https://127.0.0.66:2379', s);
      assert.notEqual(ctl.code, 0);
      const e = entry(await explain(ctl.stderr), 'cert-expired');
      assert.match(e.fix, /Renew and distribute/);
    } finally {
      await m.stop();
    }
  });

  test('(g) a member whose peer URL is still http: probe flags it with the member update command; https to its peer port is a plaintext mismatch', async (t) => {
    if (!requireBinary(t, 'etcd') || !requireBinary(t, 'etcdctl')) return;
    const s = await prepare(t, 'httppeer', '127.0.0.67');
    const server = writePair(s.dir, 'server', issueLeaf(s.ca.issuer, 'httppeer', { ips: ['127.0.0.67'] }));
    const m = await startMember({ ...s.spec, args: tlsArgs(s, server, 'http') });
    try {
      await waitHealthy('https://127.0.0.67:2379', { ca: s.client.cacert, cert: s.client.cert, key: s.client.key }, 30_000, [m]);
      const list = await etcdctl(['member', 'list'], { endpoints: 'https://127.0.0.67:2379', ...s.client });
      assert.equal(list.code, 0, list.stderr);
      const hex = list.stdout.split(',')[0]?.trim() as string;
      assert.match(hex, /^[0-9a-f]+$/);

      const { r, report } = await probeJson(args(s));
      assert.equal(r.code, 1, r.stderr);
      assert.equal(report.endpoints[0]?.members.list?.[0]?.idHex, hex, 'IDs are shown in hex, as etcdctl shows them');
      const f = finding(report, 'peer-url-http');
      assert.equal(f.subject, `member httppeer (${hex})`);
      assert.match(f.message, /http:\/\/127\.0\.0\.67:2380/);
      assert.ok(f.fix.startsWith(`etcdctl member update ${hex} --peer-urls=https://127.0.0.67:2380`), f.fix);
      assert.match(f.fix, /restart .* at once .*https:\/\/127\.0\.0\.67:2380/);
      assert.match(f.fix, /etcd-tls migrate/);
      assert.ok(f.seeAlso?.includes('tls-plaintext-mismatch'));

      // The mirror image: TLS spoken to the plaintext peer port.
      const plain = await probeJson(['https://127.0.0.67:2380', '--cacert', s.client.cacert]);
      assert.equal(plain.r.code, 1);
      const p = finding(plain.report, 'https-to-plaintext-port');
      assert.match(p.message, /wrong version number|packet length too long/);
      assert.match(p.fix, /http:\/\/127\.0\.0\.67:2380/);
      assert.ok(p.seeAlso?.includes('tls-plaintext-mismatch'));
    } finally {
      await m.stop();
    }
  });

  test('(j) CN-only server certificate: probe flags it, etcdctl fails with "legacy Common Name field", explain names it', async (t) => {
    if (!requireBinary(t, 'etcd') || !requireBinary(t, 'etcdctl')) return;
    const s = await prepare(t, 'cnonly', '127.0.0.68');
    // Go matches the CN only when no SAN extension exists at all: a CN equal to the address dialled.
    const server = writePair(s.dir, 'server', issueLeaf(s.ca.issuer, '127.0.0.68'));
    const m = await startMember({ ...s.spec, args: tlsArgs(s, server, 'https') });
    try {
      await waitForLog(m, /serving client requests on 127\.0\.0\.68:2379/);
      const { r, report } = await probeJson(args(s));
      assert.equal(r.code, 1, r.stderr);
      const f = finding(report, 'server-cert-cn-only');
      assert.ok(f.seeAlso?.includes('legacy-common-name'));
      assert.match(f.message, /legacy Common Name/);
      assert.match(f.fix, /re-issue the server certificate with 127\.0\.0\.68 as IP SAN/);

      const ctl = await etcdctlDebug('https://127.0.0.68:2379', s);
      assert.notEqual(ctl.code, 0);
      assert.match(ctl.stderr, /legacy Common Name field/);
      const e = entry(await explain(ctl.stderr), 'legacy-common-name');
      assert.match(e.fix, /Re-issue the certificate with SANs/);
    } finally {
      await m.stop();
    }
  });

  test('(i) --cipher-suites without the AES_128_GCM suite: etcd exits; explain names it from its log', async (t) => {
    if (!requireBinary(t, 'etcd')) return;
    const s = await prepare(t, 'ciphers', '127.0.0.69');
    const server = writePair(s.dir, 'server', issueLeaf(s.ca.issuer, 'ciphers', { ips: ['127.0.0.69'] }));
    const m = await startMember({
      ...s.spec,
      args: tlsArgs(s, server, 'https', ['--cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', '--logger=zap']),
    });
    try {
      await waitForExit(m);
      assert.match(m.logs(), /http2: TLSConfig\.CipherSuites is missing an HTTP\/2-required AES_128_GCM_SHA256 cipher/);
      const e = entry(await explain(m.logs()), 'cipher-suites-http2');
      assert.match(e.fix, /TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 for ECDSA keys/);
    } finally {
      await m.stop();
    }
  });

  test('(h) ETCD_NAME and --name both given: etcd exits; explain says which to remove', async (t) => {
    if (!requireBinary(t, 'etcd')) return;
    const s = await prepare(t, 'envflag', '127.0.0.70');
    const m = await startMember({ ...s.spec, args: urlFlags(s.spec, [s.spec], { client: 'http', peer: 'http' }), extraEnv: { ETCD_NAME: 'from-env' } });
    try {
      const code = await waitForExit(m);
      assert.notEqual(code, 0);
      const e = entry(await explain(m.logs()), 'env-flag-conflict');
      assert.match(e.cause, /ETCD_NAME is set in the environment and --name is on the command line/);
      assert.match(e.fix, /remove --name from the command line .* or unset ETCD_NAME/);
    } finally {
      await m.stop();
    }
  });
});
