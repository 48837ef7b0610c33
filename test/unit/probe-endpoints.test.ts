// `probe` against small local servers (no etcd): endpoint parsing, bounded timeouts, the client
// certificate rejections as an OpenSSL server words them, an http:// etcd-like endpoint, and the CLI's
// argument errors. Real etcd is in test/e2e/probe-*.test.ts. Addresses: 127.0.0.72-79 only.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { etcdTls } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';
import { caProfile, ETCD_PROFILES } from '../../src/pki/profile.js';
import { issueCertificate } from '../../src/pki/issue.js';
import { loadIssuer, type Issuer } from '../../src/pki/certificate.js';
import { encodePrivateKeyPem, generateKeyPair, spkiDer } from '../../src/pki/keys.js';
import { toPem } from '../../src/pki/pem.js';
import { EtcdTlsError } from '../../src/errors.js';
import { checkCredentials, parseEndpoint, probeEndpoint, probeEndpoints } from '../../src/doctor/probe/probe.js';
import { tlsHandshake } from '../../src/doctor/probe/handshake.js';

interface Pair {
  cert: string;
  key: string;
}

function makeCa(cn: string): Pair & { issuer: Issuer } {
  const { privateKey } = generateKeyPair({ algo: 'ecdsa', size: 256 });
  const req = { subject: [{ type: 'CN' as const, value: cn }], publicKey: spkiDer(privateKey), sans: { dns: [], ips: [], emails: [], uris: [] }, ca: {} };
  const cert = toPem('CERTIFICATE', issueCertificate(req, caProfile(), { selfSigned: true, privateKey }).der);
  const key = encodePrivateKeyPem(privateKey);
  return { cert, key, issuer: loadIssuer(cert, 'ca.pem', key, 'ca-key.pem') };
}

function issue(ca: Issuer, cn: string, ips: string[], profile = ETCD_PROFILES.server): Pair {
  const { privateKey } = generateKeyPair({ algo: 'ecdsa', size: 256 });
  const req = { subject: [{ type: 'CN' as const, value: cn }], publicKey: spkiDer(privateKey), sans: { dns: [], ips, emails: [], uris: [] } };
  return { cert: toPem('CERTIFICATE', issueCertificate(req, profile, ca).der), key: encodePrivateKeyPem(privateKey) };
}

const ca = makeCa('unit CA');
const other = makeCa('other CA');
const client = issue(ca.issuer, 'root', [], ETCD_PROFILES.client);

const servers: { close(): void }[] = [];
after(() => servers.forEach((s) => s.close()));

async function listen<S extends net.Server>(server: S, host: string): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

describe('parseEndpoint', () => {
  test('accepts https, http and bare host:port (https), defaulting the port to 2379', () => {
    assert.deepEqual(parseEndpoint('https://127.0.0.72:2379'), { origin: 'https://127.0.0.72:2379', scheme: 'https', host: '127.0.0.72', port: 2379 });
    assert.deepEqual(parseEndpoint('10.0.0.1:12379'), { origin: 'https://10.0.0.1:12379', scheme: 'https', host: '10.0.0.1', port: 12379 });
    assert.equal(parseEndpoint('http://etcd-1').origin, 'http://etcd-1:2379');
    assert.equal(parseEndpoint('https://[::1]:2379').host, '[::1]');
  });

  for (const bad of ['unix:///run/etcd.sock', 'https://10.0.0.1:2379/health', 'https://u@10.0.0.1:2379', 'https://']) {
    test(`rejects ${bad} with one line naming it`, () => {
      assert.throws(() => parseEndpoint(bad), (e: EtcdTlsError) => e.code === 'BAD_FIELD' && e.message.includes(`"${bad}"`));
    });
  }
});

describe('checkCredentials', () => {
  test('a key that is not the certificate\'s is a usage error, not a finding per endpoint', () => {
    assert.throws(
      () => checkCredentials({ ca: ca.cert, cert: client.cert, key: other.key, certSource: 'client.pem' }),
      (e: EtcdTlsError) => e.code === 'KEY_MISMATCH' && /client\.pem: the key given with --key does not belong/.test(e.message),
    );
    assert.throws(() => checkCredentials({ cert: client.cert }), (e: EtcdTlsError) => e.code === 'MISSING_FLAG' && /--key is required/.test(e.message));
    assert.throws(() => checkCredentials({ ca: client.key, caSource: 'ca.pem' }), (e: EtcdTlsError) => e.code === 'BAD_PEM' && /^ca\.pem:/.test(e.message));
    assert.doesNotThrow(() => checkCredentials({ ca: ca.cert, cert: client.cert, key: client.key }));
  });
});

test('tlsHandshake never throws, not even for a key that is not the certificate\'s', async () => {
  const r = await tlsHandshake('127.0.0.72', 1, { cert: client.cert, key: other.key, timeoutMs: 1000 });
  assert.equal(r.secure, false);
  assert.match(r.failure?.message ?? '', /^cannot set up TLS: .*key values mismatch/);
});

describe('bounded: a silent endpoint is a finding, never a hang', () => {
  test('TCP accepted but no TLS answer; and the same for http://', { timeout: 20_000 }, async () => {
    const port = await listen(net.createServer(() => {}), '127.0.0.72');
    const r = await probeEndpoints([`https://127.0.0.72:${port}`, `http://127.0.0.72:${port}`, `127.0.0.72:${port}`], { timeoutMs: 300 });
    assert.equal(r.endpoints.length, 2, 'the bare host:port is the https endpoint again, probed once');
    assert.deepEqual(r.findings.map((f) => f.code), ['endpoint-timeout', 'endpoint-timeout']);
    assert.match(r.findings[0]?.message ?? '', /connected, but no answer within 300 ms \(TLS handshake\)/);
    assert.equal(r.endpoints[0]?.health.status, 'skipped');
  });
});

describe('client certificate rejections from an OpenSSL (Node) TLS 1.3 server', () => {
  const server = issue(ca.issuer, 'server', ['127.0.0.73']);
  let port = 0;
  const creds = { ca: ca.cert, caSource: 'ca.pem' };

  test('no certificate sent: client-cert-missing (alert "certificate required")', async () => {
    port = await listen(
      tls.createServer({ ...server, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, (s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n')),
      '127.0.0.73',
    );
    const r = await probeEndpoint(`https://127.0.0.73:${port}`, { credentials: creds, timeoutMs: 3000 });
    assert.equal(r.tls?.verification.status, 'ok', r.tls?.verification.detail);
    assert.equal(r.tls?.protocol, 'TLSv1.3');
    assert.deepEqual(r.findings.map((f) => f.code), ['client-cert-missing']);
    assert.match(r.findings[0]?.message ?? '', /TLS alert "certificate required"/);
  });

  test('a certificate from another CA: client-cert-unknown-ca, naming the foreign issuer', async () => {
    const foreign = issue(other.issuer, 'intruder', [], ETCD_PROFILES.client);
    const r = await probeEndpoint(`https://127.0.0.73:${port}`, { credentials: { ...creds, ...foreign, certSource: 'intruder.pem' }, timeoutMs: 3000 });
    assert.deepEqual(r.findings.map((f) => f.code), ['client-cert-unknown-ca']);
    assert.match(r.findings[0]?.message ?? '', /"CN=intruder" is not signed by ca\.pem.*issuer "CN=other CA"/);
  });

  test('our own certificate is accepted: the handshake step says so', async () => {
    const r = await probeEndpoint(`https://127.0.0.73:${port}`, { credentials: { ...creds, ...client }, timeoutMs: 3000 });
    assert.equal(r.tls?.clientCertificate.status, 'ok');
    assert.equal(r.tls?.clientCertificate.detail, '"CN=root" accepted');
  });
});

describe('an http:// endpoint answering like etcd 3.4', () => {
  // The member list body is etcd 3.4.23's, verbatim (reference §3e): IDs are decimal strings.
  const MEMBERS = '{"header":{"cluster_id":"15875391935852295136","member_id":"7383792418829112008","raft_term":"2"},"members":[{"ID":"7383792418829112008","name":"t1","peerURLs":["http://127.0.0.74:42380"],"clientURLs":["http://127.0.0.74:42379"]}]}';
  let health = '{"health":"true"}';
  let gateway = true;
  const handler: http.RequestListener = (req, res) => {
    if (req.url === '/health') return void res.writeHead(health.includes('true') ? 200 : 503).end(health);
    if (req.url === '/v3/cluster/member/list' && gateway) return void res.writeHead(200, { 'content-type': 'application/json' }).end(MEMBERS);
    res.writeHead(404).end('404 page not found\n');
  };

  test('plaintext is a warning, an http peer URL an error with the exact member update (hex ID)', async () => {
    const port = await listen(http.createServer(handler), '127.0.0.74');
    const r = await probeEndpoint(`http://127.0.0.74:${port}`, { timeoutMs: 3000 });
    const hex = BigInt('7383792418829112008').toString(16);
    assert.equal(r.members.list?.[0]?.idHex, hex);
    assert.equal(r.members.list?.[0]?.id, '7383792418829112008');
    const byCode = Object.fromEntries(r.findings.map((f) => [f.code, f]));
    assert.equal(byCode['plaintext-endpoint']?.severity, 'warning');
    assert.equal(byCode['peer-url-http']?.severity, 'error');
    assert.equal(byCode['peer-url-http']?.subject, `member t1 (${hex})`);
    assert.ok(byCode['peer-url-http']?.fix.startsWith(`etcdctl member update ${hex} --peer-urls=https://127.0.0.74:42380`));
    assert.equal(byCode['client-url-http']?.severity, 'warning');

    health = '{"health":"false"}';
    const sick = await probeEndpoint(`http://127.0.0.74:${port}`, { timeoutMs: 3000 });
    assert.ok(sick.findings.some((f) => f.code === 'health-false' && f.message.includes('{"health":"false"}')));
    assert.equal(sick.members.status, 'skipped');

    health = '{"health":"true"}';
    gateway = false;
    const off = await probeEndpoint(`http://127.0.0.74:${port}`, { timeoutMs: 3000 });
    assert.ok(off.findings.some((f) => f.code === 'gateway-disabled' && /enable-grpc-gateway: true/.test(f.fix)));
  });

  test('a port that is not etcd (a peer port answers 404) is said to be one, not called unhealthy', async () => {
    const port = await listen(http.createServer((_req, res) => res.writeHead(404).end('404 page not found\n')), '127.0.0.76');
    const r = await probeEndpoint(`http://127.0.0.76:${port}`, { timeoutMs: 3000 });
    assert.deepEqual(r.findings.map((f) => f.code), ['health-failed']);
    assert.match(r.findings[0]?.message ?? '', /did not get etcd's health JSON but "404 page not found"/);
    assert.match(r.findings[0]?.fix ?? '', /not a peer URL \(2380\)/);
  });

  test('findings about the same member seen from two endpoints are reported once', async () => {
    gateway = true;
    const port = await listen(http.createServer(handler), '127.0.0.75');
    const port2 = await listen(http.createServer(handler), '127.0.0.75');
    const r = await probeEndpoints([`http://127.0.0.75:${port}`, `http://127.0.0.75:${port2}`], { timeoutMs: 3000 });
    assert.equal(r.findings.filter((f) => f.code === 'peer-url-http').length, 1);
    assert.equal(r.findings.filter((f) => f.code === 'plaintext-endpoint').length, 2);
  });
});

describe('etcd-tls probe (CLI)', () => {
  test('usage errors are one line with exit 1', async (t) => {
    const dir = await makeTempDir(t, 'probe-cli-');
    mkdirSync(path.join(dir, 'pki', 'clients', 'admin'), { recursive: true });
    writeFileSync(path.join(dir, 'client.pem'), client.cert);
    const cases: [string[], RegExp][] = [
      [[], /^etcd-tls: USAGE: probe: give at least one endpoint/],
      [['https://127.0.0.77:2379', '--client', 'admin', '--cert', 'client.pem'], /^etcd-tls: USAGE: probe: give either --client or --cert\/--key/],
      [['https://127.0.0.77:2379', '--out', 'pki'], /^etcd-tls: USAGE: probe: --out is only used with --client/],
      [['https://127.0.0.77:2379', '--client', 'kube', '--out', 'pki'], /^etcd-tls: FILE_NOT_FOUND: pki\/clients\/kube: no client "kube" here \(clients: admin\)/],
      [['https://127.0.0.77:2379', '--cert', 'client.pem'], /^etcd-tls: MISSING_FLAG: probe: --key is required with --cert/],
      [['https://127.0.0.77:2379', '--timeout', '0s'], /^etcd-tls: BAD_DURATION: --timeout: "0s" must be longer than zero/],
      [['ftp://127.0.0.77:2379'], /^etcd-tls: BAD_FIELD: endpoint "ftp:\/\/127\.0\.0\.77:2379": scheme ftp is not http or https/],
    ];
    for (const [args, re] of cases) {
      const r = await etcdTls(['probe', ...args], { cwd: dir });
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
  });

  test('--help shows usage, options and an example; -timeout=1s (Go style) is accepted', async () => {
    const h = await etcdTls(['probe', '--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^Usage: etcd-tls probe ENDPOINT\.\.\./);
    assert.match(h.stdout, /--client NAME/);
    assert.match(h.stdout, /Examples:\n {2}etcd-tls probe https:/);
    const r = await etcdTls(['probe', 'https://127.0.0.77:1', '-timeout=1s']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /endpoint-refused: connection refused: nothing listens on 127\.0\.0\.77:1/);
  });
});
