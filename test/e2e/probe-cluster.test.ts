// Issue #4, "how it must be shown": `etcd-tls probe` against a real 3-member etcd 3.4 cluster generated
// by `etcd-tls gen --local` — healthy first, then the client-side failures it must tell apart (no
// client certificate, one from another CA, a host not in the SANs, http:// against a TLS port, nothing
// listening), each checked against etcd's own log through `etcd-tls explain`.
// Addresses: 127.0.0.61-64 and 127.0.0.71 only.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanEnv, etcdTls, findBinary, requireBinary, run } from '../helpers/components.js';
import { etcdctl, parseEnvFile, startCluster, type MemberHandle, type MemberSpec } from '../helpers/etcd.js';
import { makeTempDir } from '../helpers/tmp.js';
import { caProfile, ETCD_PROFILES } from '../../src/pki/profile.js';
import { issueCertificate } from '../../src/pki/issue.js';
import { loadIssuer } from '../../src/pki/certificate.js';
import { encodePrivateKeyPem, generateKeyPair, spkiDer } from '../../src/pki/keys.js';
import { toPem } from '../../src/pki/pem.js';
import { finding, probeJson } from '../helpers/probe.js';

const SPEC = `cluster: probe
ca: { cn: probe test CA }
members:
  - { name: m1, ips: [127.0.0.61] }
  - { name: m2, ips: [127.0.0.62] }
  - { name: m3, ips: [127.0.0.63] }
clients:
  - { name: admin, cn: root }
`;
const ENDPOINTS = ['https://127.0.0.61:2379', 'https://127.0.0.62:2379', 'https://127.0.0.63:2379'];
// m1 also listens here, with a certificate that does not name this address.
const UNCOVERED = 'https://127.0.0.64:2379';




/** `etcd-tls explain --json` on text, as a user pipes a log in; the ids it named. */
async function explainIds(text: string): Promise<{ id: string; fix: string }[]> {
  const r = await etcdTls(['explain', '--json'], { stdin: text });
  assert.equal(r.code, 0, `explain recognised nothing in:\n${text.slice(-2000)}\n${r.stderr}`);
  return JSON.parse(r.stdout) as { id: string; fix: string }[];
}

/** The first line of the member's log matching `re`, waiting briefly: etcd logs a rejection as it happens. */
async function logLine(m: MemberHandle, re: RegExp, timeoutMs = 5_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = m.logs().split('\n').find((l) => re.test(l));
    if (line) return line;
    if (Date.now() > deadline) assert.fail(`member ${m.name} never logged ${re}; last lines:\n${m.logs().split('\n').slice(-10).join('\n')}`);
    await sleep(100);
  }
}

const BINARIES = ['etcd', 'etcdctl', 'curl'] as const;
const haveAll = BINARIES.every((b) => findBinary(b) !== null);
const needsAll = (t: TestContext): boolean => BINARIES.every((b) => requireBinary(t, b));

describe('probe against a generated 3-member mTLS cluster', { concurrency: false }, () => {
  let dir = '';
  let members: MemberHandle[] = [];
  let admin = { cacert: '', cert: '', key: '' };
  let foreign = { cert: '', key: '' };

  before(async () => {
    if (!haveAll) return;
    dir = await makeTempDir('file', 'probe-cluster-');
    writeFileSync(path.join(dir, 'cluster.yaml'), SPEC);
    const gen = await etcdTls(['gen', 'cluster.yaml', '--out', 'pki', '--local'], { cwd: dir });
    assert.equal(gen.code, 0, gen.stderr);
    const pki = path.join(dir, 'pki');
    const specs: MemberSpec[] = ['m1', 'm2', 'm3'].map((name, i) => {
      const env = parseEnvFile(readFileSync(path.join(pki, 'nodes', name, 'etcd.env'), 'utf8'));
      if (name === 'm1') env.ETCD_LISTEN_CLIENT_URLS = `${env.ETCD_LISTEN_CLIENT_URLS},${UNCOVERED}`;
      return { name, ip: `127.0.0.6${i + 1}`, clientPort: 2379, peerPort: 2380, dataDir: path.join(dir, `data-${name}`), env, logLines: 3_000 };
    });
    admin = {
      cacert: path.join(pki, 'clients', 'admin', 'ca.pem'),
      cert: path.join(pki, 'clients', 'admin', 'client.pem'),
      key: path.join(pki, 'clients', 'admin', 'client-key.pem'),
    };
    members = await startCluster(specs, { tls: { ca: admin.cacert, cert: admin.cert, key: admin.key } });

    // A client certificate from a CA this cluster has never heard of.
    const { privateKey: caKey } = generateKeyPair({ algo: 'ecdsa', size: 256 });
    const empty = { dns: [], ips: [], emails: [], uris: [] };
    const caDer = issueCertificate({ subject: [{ type: 'CN', value: 'intruder CA' }], publicKey: spkiDer(caKey), sans: empty, ca: {} }, caProfile(), { selfSigned: true, privateKey: caKey }).der;
    const issuer = loadIssuer(toPem('CERTIFICATE', caDer), 'other-ca.pem', encodePrivateKeyPem(caKey), 'other-ca-key.pem');
    const { privateKey } = generateKeyPair({ algo: 'ecdsa', size: 256 });
    const der = issueCertificate({ subject: [{ type: 'CN', value: 'intruder' }], publicKey: spkiDer(privateKey), sans: empty }, ETCD_PROFILES.client, issuer).der;
    foreign = { cert: path.join(dir, 'intruder.pem'), key: path.join(dir, 'intruder-key.pem') };
    writeFileSync(foreign.cert, toPem('CERTIFICATE', der));
    writeFileSync(foreign.key, encodePrivateKeyPem(privateKey), { mode: 0o600 });
  });

  after(async () => {
    await Promise.all(members.map((m) => m.stop()));
  });

  const m1 = (): MemberHandle => members[0] as MemberHandle;

  test('healthy: TLS 1.3, chain verified, health true, 3 https members with etcdctl\'s hex IDs, exit 0', async (t) => {
    if (!needsAll(t)) return;
    const { r, report } = await probeJson([...ENDPOINTS, '--client', 'admin', '--out', path.join(dir, 'pki')]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.equal(report.ok, true);
    assert.deepEqual(report.summary, { errors: 0, warnings: 0, info: 0 });
    const list = await etcdctl(['member', 'list'], { endpoints: ENDPOINTS[0] as string, ...admin });
    assert.equal(list.code, 0, list.stderr);
    const expected = list.stdout.trim().split('\n').map((l) => l.split(', ').slice(0, 3)).map(([id, , name]) => `${id} ${name}`).sort();
    for (const [i, ep] of report.endpoints.entries()) {
      assert.equal(ep.endpoint, ENDPOINTS[i]);
      assert.match(ep.tls?.protocol ?? '', /^TLSv1\.[23]$/);
      assert.match(ep.tls?.cipher ?? '', /^TLS_/);
      assert.equal(ep.tls?.verification.status, 'ok', ep.tls?.verification.detail);
      assert.equal(ep.tls?.chain[0]?.subject, `CN=m${i + 1}`);
      assert.ok(ep.tls?.chain[0]?.sans.includes(`IP:127.0.0.6${i + 1}`));
      assert.equal(ep.tls?.clientCertificate.status, 'ok');
      assert.equal(ep.health.healthy, true);
      const got = ep.members.list ?? [];
      assert.equal(got.length, 3);
      assert.ok(got.every((m) => m.peerURLs.every((u) => u.startsWith('https://')) && m.clientURLs.every((u) => u.startsWith('https://'))));
      assert.deepEqual(got.map((m) => `${m.idHex} ${m.name}`).sort(), expected);
      assert.ok(got.every((m) => BigInt(m.id).toString(16) === m.idHex));
    }

    // The same in text: one block per endpoint and the member table once.
    const text = await etcdTls(['probe', ENDPOINTS[0] as string, '--cacert', admin.cacert, '--cert', admin.cert, '--key', admin.key]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /verify\s+ok: chains to "CN=probe test CA"; 127\.0\.0\.61 is in its SANs/);
    assert.match(text.stdout, /health\s+ok: health true/);
    assert.match(text.stdout, /ID\s+NAME\s+PEER URLS\s+CLIENT URLS/);
    assert.match(text.stdout, /0 errors, 0 warnings/);
  });

  test('(b) no client certificate: probe says one is required; etcd\'s log line is explained the same way', async (t) => {
    if (!needsAll(t)) return;
    const { r, report } = await probeJson([ENDPOINTS[0] as string, '--cacert', admin.cacert]);
    assert.equal(r.code, 1);
    const f = finding(report, 'client-cert-missing');
    assert.match(f.message, /requires a client certificate/);
    assert.match(f.fix, /--cert and --key/);
    assert.ok(f.seeAlso?.includes('client-cert-missing'));
    assert.equal(report.endpoints[0]?.health.status, 'skipped');

    const line = await logLine(m1(), /rejected connection.*client didn't provide a certificate/);
    const found = await explainIds(line);
    assert.equal(found[0]?.id, 'client-cert-missing');
    assert.match(found[0]?.fix ?? '', /client certificate signed by the trusted CA/);
  });

  test('(c) client certificate from another CA: probe names the CA problem; so does etcd\'s log', async (t) => {
    if (!needsAll(t)) return;
    const { r, report } = await probeJson([ENDPOINTS[0] as string, '--cacert', admin.cacert, '--cert', foreign.cert, '--key', foreign.key]);
    assert.equal(r.code, 1);
    const f = finding(report, 'client-cert-unknown-ca');
    assert.match(f.message, /"CN=intruder" is not signed by .*ca\.pem/);
    assert.match(f.fix, /issued by the CA in etcd's --trusted-ca-file/);
    assert.ok(f.seeAlso?.includes('unknown-authority'));

    const line = await logLine(m1(), /rejected connection.*failed to verify client certificate: x509: certificate signed by unknown authority/);
    assert.ok((await explainIds(line)).some((e) => e.id === 'unknown-authority'));

    // The other direction: a CA file that did not sign the server certificate.
    const wrongCa = path.join(dir, 'intruder.pem'); // a leaf, not the cluster CA: nothing chains to it
    const server = await probeJson([ENDPOINTS[0] as string, '--cacert', wrongCa, '--cert', admin.cert, '--key', admin.key]);
    assert.equal(server.r.code, 1);
    const s = finding(server.report, 'server-cert-unknown-ca');
    assert.match(s.message, /"CN=m1" does not chain to .*intruder\.pem/);
    assert.match(s.fix, /use the CA that signed the server certificates as --cacert/);
  });

  test('(d) a host not in the server certificate: probe quotes Go\'s words; etcdctl agrees and explain names it', async (t) => {
    if (!needsAll(t)) return;
    const { r, report } = await probeJson([UNCOVERED, '--client', 'admin', '--out', path.join(dir, 'pki')]);
    assert.equal(r.code, 1);
    const f = finding(report, 'server-san-mismatch');
    assert.match(f.message, /x509: certificate is valid for 127\.0\.0\.61, 127\.0\.0\.1, ::1, not 127\.0\.0\.64/);
    assert.match(f.fix, /re-issue the server certificate with 127\.0\.0\.64 as IP SAN/);
    assert.ok(f.seeAlso?.includes('san-mismatch'));

    const ctl = await etcdctl(['--debug', '--command-timeout=3s', 'get', 'probe'], { endpoints: UNCOVERED, ...admin, timeoutMs: 20_000 });
    assert.notEqual(ctl.code, 0);
    assert.match(ctl.stderr, /x509: certificate is valid for 127\.0\.0\.61, 127\.0\.0\.1, ::1, not 127\.0\.0\.64/);
    const found = await explainIds(ctl.stderr);
    assert.ok(found.some((e) => e.id === 'san-mismatch'), found.map((e) => e.id).join(', '));
  });

  test('(f) http:// against the TLS client port: probe says use https; curl and etcd\'s log are explained', async (t) => {
    if (!needsAll(t)) return;
    const { r, report } = await probeJson(['http://127.0.0.61:2379']);
    assert.equal(r.code, 1);
    const f = finding(report, 'http-to-tls-port');
    assert.match(f.fix, /use https:\/\/127\.0\.0\.61:2379/);
    assert.ok(f.seeAlso?.includes('http-client-on-https-port'));

    const line = await logLine(m1(), /rejected connection.*first record does not look like a TLS handshake/);
    assert.ok((await explainIds(line)).some((e) => e.id === 'tls-plaintext-mismatch'));
    const c = await run('curl', ['-sS', '--max-time', '5', 'http://127.0.0.61:2379/health'], { env: cleanEnv() });
    assert.notEqual(c.code, 0);
    assert.ok((await explainIds(c.stderr)).some((e) => e.id === 'http-client-on-https-port'), c.stderr);
  });

  test('an endpoint with nothing listening is reported at once, next to healthy ones; exit 1', async (t) => {
    if (!needsAll(t)) return;
    const { r, report } = await probeJson([ENDPOINTS[1] as string, 'https://127.0.0.71:2379', '--client', 'admin', '--out', path.join(dir, 'pki')]);
    assert.equal(r.code, 1);
    assert.equal(report.endpoints[0]?.health.healthy, true);
    assert.equal(report.endpoints[1]?.reachable, false);
    const f = finding(report, 'endpoint-refused');
    assert.equal(f.subject, 'https://127.0.0.71:2379');
    assert.ok(f.seeAlso?.includes('connection-refused'));
    assert.equal(report.findings.length, 1, 'the healthy endpoint adds nothing');
  });
});
