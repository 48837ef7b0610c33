// The failure catalogue behind `etcd-tls explain`: every fixture line (real etcd 3.4.23 output, issue
// wordings; see test/fixtures/logs/README.md) must be recognised as its failure, with the facts it carries
// in the explanation, and healthy output or garbage must be recognised as nothing.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CATALOGUE, findEntry } from '../../src/doctor/explain/catalogue.js';
import { explainEntry, explainLine, explainText } from '../../src/doctor/explain/explain.js';
import { REPO_ROOT, etcdTls } from '../helpers/components.js';

const LOGS = path.join(REPO_ROOT, 'test', 'fixtures', 'logs');
const fixtureLines = (file: string): string[] =>
  readFileSync(path.join(LOGS, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
const FAILURE_FILES = readdirSync(LOGS).filter((f) => f.endsWith('.log') && f !== 'no-match.log');
const LEFTOVER = /\{[A-Za-z]\w*(?:\|\w+)?\}|\[\[|\]\]/;

const first = (line: string) => {
  const found = explainLine(line);
  assert.ok(found.length > 0, `nothing recognised in: ${line}`);
  return found[0]!;
};

describe('catalogue data', () => {
  test('covers the twelve failures of reference §8 and the other cases the doctor must name', () => {
    const required = [
      // §8, in order
      'server-cert-missing-clientauth',
      'eku-incompatible',
      'san-mismatch',
      'peer-dns-san-lookup',
      'no-ip-sans',
      'unknown-authority',
      'tls-plaintext-mismatch',
      'client-cert-missing',
      'cert-expired',
      'legacy-common-name',
      'env-flag-conflict',
      'cipher-suites-http2',
      // the blog's componentstatus case, §0.9, allowed-CN, and the brief's extra wordings
      'componentstatus-no-client-cert',
      'gateway-cn-with-auth',
      'allowed-cn-mismatch',
      'scheme-http-with-tls-files',
      'http-client-on-https-port',
      'connection-refused',
      'context-deadline-exceeded',
      'removed-ca-file-flag',
    ];
    const missing = required.filter((id) => findEntry(id) === undefined);
    assert.deepEqual(missing, []);
  });

  test('ids are unique kebab-case, and every entry has its fixture file and every fixture file its entry', () => {
    const ids = CATALOGUE.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, 'duplicate id');
    for (const id of ids) assert.match(id, /^[a-z0-9]+(?:-[a-z0-9]+)*$/);
    assert.deepEqual([...ids].sort(), FAILURE_FILES.map((f) => f.replace(/\.log$/, '')).sort());
  });

  test('see-also entries are https URLs', () => {
    for (const e of CATALOGUE) for (const url of e.seeAlso) assert.match(url, /^https:\/\/\S+$/, `${e.id}: ${url}`);
  });

  test('rendered without any facts, no text shows a raw {placeholder} or [[segment]]', () => {
    for (const e of CATALOGUE) {
      const x = explainEntry(e.id);
      assert.doesNotMatch(`${x.title} ${x.cause} ${x.fix}`, LEFTOVER, e.id);
    }
  });
});

describe('explainLine', () => {
  for (const file of FAILURE_FILES) {
    const id = file.replace(/\.log$/, '');
    test(`every line of ${file} is explained as ${id} first`, () => {
      for (const line of fixtureLines(file)) {
        const found = explainLine(line);
        assert.equal(found[0]?.id, id, `line: ${line}\nrecognised: ${found.map((e) => e.id).join(', ') || 'nothing'}`);
        for (const x of found) assert.doesNotMatch(`${x.cause} ${x.fix}`, LEFTOVER, `${x.id} on: ${line}`);
        assert.equal(found[0]?.evidence, line.trim());
      }
    });
  }

  test('healthy etcd output and garbage are recognised as nothing', () => {
    for (const line of fixtureLines('no-match.log')) {
      assert.deepEqual(explainLine(line).map((e) => e.id), [], line);
    }
  });

  test('the SAN mismatch says which address was checked and which the certificate covers', () => {
    const x = first('x509: certificate is valid for 127.0.0.2, not 127.0.0.1');
    assert.equal(x.id, 'san-mismatch');
    assert.deepEqual(x.facts, { validFor: '127.0.0.2', wanted: '127.0.0.1' });
    assert.match(x.cause, /valid for 127\.0\.0\.2, but it was checked against 127\.0\.0\.1/);
    assert.match(x.fix, /with 127\.0\.0\.1 in its SANs/);
  });

  test('a peer rejected for its source address is named as such, the generic SAN entry after it', () => {
    const [line] = fixtureLines('peer-source-ip-not-in-san.log');
    const found = explainLine(line!);
    assert.deepEqual(found.map((e) => e.id), ['peer-source-ip-not-in-san', 'san-mismatch']);
    assert.match(found[0]!.cause, /came from 127\.0\.0\.1, but the certificate covers only 127\.0\.0\.202/);
    assert.equal(found[0]!.facts.remote, '127.0.0.1:54724');
  });

  test('the env/flag conflict names the variable and the flag that shadows it', () => {
    const x = first('conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)');
    assert.match(x.cause, /^ETCD_NAME is set in the environment and --name is on the command line/);
    assert.match(first('C | pkg/flags: conflicting environment variable "ETCD_PEER_CERT_FILE" is shadowed by corresponding command-line flag').fix, /remove --peer-cert-file /);
    assert.match(first('conflicting environment variable "ETCDCTL_ENDPOINTS" is shadowed by corresponding command-line flag').fix, /remove --endpoints /);
  });

  test('the gateway clientAuth loop names the rejected address, in every Go wording', () => {
    const lines = fixtureLines('server-cert-missing-clientauth.log');
    assert.match(first(lines[0]!).cause, /from 127\.0\.0\.1:51288:/);
    assert.match(first(lines[3]!).cause, /from \[::1\]:35480:/);
    // the same Go >= 1.20 wording on a client is about the server's certificate: not this entry
    const client = first('transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate specifies an incompatible key usage');
    assert.equal(client.id, 'eku-incompatible');
  });

  test("the blog's componentstatus line: the caller sent no client certificate, and the ways out", () => {
    const x = first('etcd-0 Unhealthy Get https://10.93.81.17:2379/health: remote error: tls: bad certificate');
    assert.equal(x.id, 'componentstatus-no-client-cert');
    assert.match(x.title, /sent no client certificate/);
    assert.match(x.cause, /1\.6 and older/);
    assert.match(x.fix, /1\.7 or later/);
    assert.match(x.fix, /--listen-metrics-urls/);
    assert.match(x.fix, /--cert client\.pem --key client-key\.pem https:\/\/10\.93\.81\.17:2379\/health/);
  });

  test("Go's quoted DNS SAN list is shown as plain names", () => {
    const [line] = fixtureLines('peer-dns-san-lookup.log');
    const x = first(line!);
    assert.equal(x.facts.remoteIp, '192.168.85.71');
    assert.match(x.cause, /only DNS names \(kubernetes, kubernetes\.default, kubernetes\.default\.svc\)/);
    assert.match(x.cause, /\(lookup kubernetes\.default\.svc on 127\.0\.0\.53:53: no such host\)/);
  });

  test('a sentence that needs a fact the line lacks is left out, and kept when the line has it', () => {
    const plain = first('x509: certificate signed by unknown authority');
    assert.doesNotMatch(plain.cause, /Verification tried/);
    const candidate = first('x509: certificate signed by unknown authority (possibly because of "crypto/rsa: verification error" while trying to verify candidate authority certificate "kubernetes")');
    assert.match(candidate.cause, /Verification tried the CA "kubernetes"/);
  });

  test('a long gRPC line keeps, besides the whole line, the part that was recognised', () => {
    const [line] = fixtureLines('no-ip-sans.log');
    const x = first(line!);
    assert.equal(x.evidence, line);
    assert.equal(x.match, "x509: cannot validate certificate for 127.0.0.201 because it doesn't contain any IP SANs");
  });

  test('a line that no regex can finish quickly on is still answered', { timeout: 20_000 }, () => {
    assert.deepEqual(explainLine(`${'rejected connection from "'.repeat(2000)}${'x'.repeat(200_000)}`), []);
    assert.deepEqual(explainLine(`x509: certificate is valid for ${'a, '.repeat(50_000)}`), []);
  });
});

describe('explainText', () => {
  test('reports each failure once, most specific first, with its first line and a count', () => {
    const gateway = fixtureLines('server-cert-missing-clientauth.log')[0]!;
    const refused = fixtureLines('connection-refused.log')[0]!;
    const healthy = fixtureLines('no-match.log');
    const text = [healthy[0], refused, gateway, healthy[1], gateway, '', gateway].join('\n');
    const found = explainText(text);
    assert.deepEqual(found.map((e) => [e.id, e.line, e.count]), [
      ['server-cert-missing-clientauth', 3, 3],
      ['eku-incompatible', 3, 3],
      ['connection-refused', 2, 1],
    ]);
    assert.equal(found[0]!.evidence, gateway);
  });

  test('CRLF line ends and terminal colours do not hide a failure', () => {
    const found = explainText('ok\r\n\x1b[33mx509: certificate is valid for 10.0.0.1, not 10.0.0.9\x1b[0m\r\n');
    assert.equal(found[0]?.id, 'san-mismatch');
    assert.equal(found[0]?.line, 2);
    assert.equal(found[0]?.facts.wanted, '10.0.0.9');
  });
});

describe('explainEntry and findEntry (for probe)', () => {
  test('renders an entry with the facts a probe observed', () => {
    const x = explainEntry('no-ip-sans', { host: '127.0.0.11' }, 'probe: https://127.0.0.11:2379');
    assert.match(x.fix, /IP SAN 127\.0\.0\.11/);
    assert.equal(x.evidence, 'probe: https://127.0.0.11:2379');
    assert.deepEqual(x.facts, { host: '127.0.0.11' });
  });

  test('an unknown id is a programming error, not a silent miss', () => {
    assert.throws(() => explainEntry('no-such-failure'), TypeError);
    assert.equal(findEntry('no-such-failure'), undefined);
    assert.equal(findEntry('cert-expired')?.title, 'A certificate is expired or not yet valid');
  });
});

describe('etcd-tls explain (the CLI)', () => {
  test('an entry id that check or probe printed shows that entry', async () => {
    const r = await etcdTls(['explain', 'client-cert-missing']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^client-cert-missing: /);
    assert.match(r.stdout, /fix/);
  });

  test('explains a line given as unquoted words', async () => {
    const r = await etcdTls(['explain', 'tls:', 'first', 'record', 'does', 'not', 'look', 'like', 'a', 'TLS', 'handshake']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^tls-plaintext-mismatch: One side speaks plaintext, the other TLS/);
    assert.match(r.stdout, /evidence +tls: first record does not look like a TLS handshake/);
    assert.match(r.stdout, /see also +https:\/\/github\.com\/etcd-io\/etcd\/issues\/11786/);
  });

  test('reads a log from stdin and reports each failure once, with where and how often', async () => {
    const log = [...fixtureLines('no-match.log'), ...fixtureLines('server-cert-missing-clientauth.log').slice(0, 2)].join('\n');
    const r = await etcdTls(['explain'], { stdin: `${log}\n` });
    assert.equal(r.code, 0, r.stderr);
    const headers = r.stdout.split('\n').filter((l) => /^[a-z0-9-]+: /.test(l));
    assert.deepEqual(headers.map((h) => h.split(':')[0]), ['server-cert-missing-clientauth', 'eku-incompatible']);
    assert.match(r.stdout, /seen +line 17, 2 lines in all/);
  });

  test('--json prints the same findings as data', async () => {
    const r = await etcdTls(['explain', '--json', 'x509: certificate is valid for 127.0.0.2, not 127.0.0.1']);
    assert.equal(r.code, 0, r.stderr);
    const found = JSON.parse(r.stdout) as { id: string; facts: Record<string, string>; count: number; cause: string }[];
    assert.equal(found[0]?.id, 'san-mismatch');
    assert.deepEqual(found[0]?.facts, { validFor: '127.0.0.2', wanted: '127.0.0.1' });
    assert.equal(found[0]?.count, 1);
  });

  test('nothing recognised: one line on stderr pointing at probe, exit 1', async () => {
    const r = await etcdTls(['explain', 'everything', 'is', 'fine']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^etcd-tls: NOTHING_RECOGNISED: no known etcd TLS failure was recognised.*etcd-tls probe/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    const json = await etcdTls(['explain', '--json'], { stdin: 'all good\n' });
    assert.equal(json.code, 1);
    assert.deepEqual(JSON.parse(json.stdout), []);
  });

  test('stdin is read up to 4 MiB: what follows is not explained, and the user is told', async () => {
    const gateway = fixtureLines('server-cert-missing-clientauth.log')[0]!;
    const filler = `${fixtureLines('no-match.log')[0]!}\n`.repeat(Math.ceil((4.2 * 1024 * 1024) / 60));
    const r = await etcdTls(['explain'], { stdin: `${gateway}\n${filler}x509: certificate is valid for 127.0.0.2, not 127.0.0.1\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^server-cert-missing-clientauth: /);
    assert.doesNotMatch(r.stdout, /san-mismatch/);
    assert.match(r.stderr, /warning: stdin: only the first 4 MiB were read/);
  });

  test('empty stdin is EMPTY_INPUT; binary garbage is answered, not crashed on', async () => {
    const empty = await etcdTls(['explain'], { stdin: ' \n\n' });
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /^etcd-tls: EMPTY_INPUT: stdin: /);
    const bytes = Buffer.alloc(64 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 7) % 256;
    const garbage = await etcdTls(['explain'], { stdin: bytes, timeoutMs: 30_000 });
    assert.equal(garbage.timedOut, false);
    assert.equal(garbage.code, 1, garbage.stderr);
    assert.doesNotMatch(garbage.stderr, /INTERNAL/);
  });
});
