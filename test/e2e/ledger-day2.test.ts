/**
 * gen, renew, revoke, crl and gencrl with `--db`: the certificates they issue and revoke are in the
 * issuance ledger serve keeps (SQLite, and PostgreSQL 15 on 127.0.0.185:5437), in cfssl's encodings
 * (decimal serial, lowercase hex AKI) as openssl reads the files; the CRL is the union of revoked.json
 * and the ledger; cfssl 1.2.0 revokes rows gen recorded; a ledger that fails writes nothing.
 * And serve with an encrypted CA key (127.0.0.181-182): decrypted once, workers fed over IPC.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { CertificateRecord } from '../../src/ledger/ledger.js';
import { openLedger } from '../../src/ledger/open.js';
import { etcdTls, requireBinary, run } from '../helpers/components.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { startEtcdTlsServe } from '../helpers/serve.js';
import { makeTempDir } from '../helpers/tmp.js';

const SPEC = `cluster: ledger
ca: { cn: ledger test CA }
members:
  - { name: m1, ips: [127.0.0.181] }
  - { name: m2, ips: [127.0.0.182] }
  - { name: m3, ips: [127.0.0.183] }
clients:
  - { name: kube-apiserver, cn: kube-apiserver-etcd-client }
  - { name: admin, cn: root }
`;
const LEAVES = ['nodes/m1/server.pem', 'nodes/m1/peer.pem', 'nodes/m2/server.pem', 'nodes/m2/peer.pem', 'nodes/m3/server.pem', 'nodes/m3/peer.pem', 'clients/kube-apiserver/client.pem', 'clients/admin/client.pem'];

type Row = Omit<CertificateRecord, 'pem' | 'expiry' | 'revokedAt'> & { expiry: string; revokedAt: string | null };

/** openssl's view of a certificate file: serial as cfssl's certdb keys it (decimal) and the AKI (lowercase hex). */
async function opensslIds(file: string): Promise<{ serial: string; aki: string }> {
  const r = await run('openssl', ['x509', '-in', file, '-noout', '-serial', '-ext', 'authorityKeyIdentifier']);
  assert.equal(r.code, 0, r.stderr);
  const hex = /serial=([0-9A-F]+)/.exec(r.stdout)?.[1];
  const aki = /Identifier:\s*\n\s*(?:keyid:)?([0-9A-F:]+)/.exec(r.stdout)?.[1];
  assert.ok(hex && aki, r.stdout);
  return { serial: BigInt(`0x${hex}`).toString(10), aki: aki.replace(/:/g, '').toLowerCase() };
}

/** Decimal serials the DER CRL lists, as openssl prints them. */
async function crlSerials(file: string): Promise<string[]> {
  const r = await run('openssl', ['crl', '-in', file, '-inform', 'DER', '-noout', '-text']);
  assert.equal(r.code, 0, r.stderr);
  return [...r.stdout.matchAll(/Serial Number: ([0-9A-F]+)/g)].map((m) => BigInt(`0x${m[1]}`).toString(10)).sort();
}

async function list(db: string, ...extra: string[]): Promise<Row[]> {
  const r = await etcdTls(['ledger', 'list', '--db', db, '--json', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Row[];
}

async function genWithLedger(t: TestContext, db: (dir: string) => string): Promise<{ dir: string; pki: string; db: string }> {
  const dir = await makeTempDir(t, 'ledger-day2-');
  await writeFile(path.join(dir, 'cluster.yaml'), SPEC);
  const url = db(dir);
  const r = await etcdTls(['gen', 'cluster.yaml', '--out', 'pki', '--db', url], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /recorded 8 certificate\(s\) in the ledger/);
  return { dir, pki: path.join(dir, 'pki'), db: url };
}

/** The rows are the certificates on disk, by openssl's serial and AKI. */
async function assertLedgerMatchesFiles(pki: string, rows: readonly Row[], files: readonly string[]): Promise<void> {
  for (const f of files) {
    const ids = await opensslIds(path.join(pki, f));
    const row = rows.find((r) => r.serialNumber === ids.serial);
    assert.ok(row, `${f}: serial ${ids.serial} (openssl) is not in the ledger`);
    assert.equal(row.authorityKeyIdentifier, ids.aki, `${f}: AKI`);
  }
}

describe('--db on a SQLite ledger', () => {
  test('gen records every certificate; revoke marks it and folds in revocations made elsewhere; renew records the new ones', async (t) => {
    const { pki, db } = await genWithLedger(t, (dir) => path.join(dir, 'ledger.db'));
    let rows = await list(db);
    assert.equal(rows.length, LEAVES.length);
    await assertLedgerMatchesFiles(pki, rows, LEAVES);
    assert.deepEqual(new Set(rows.map((r) => r.status)), new Set(['good']));

    // A revocation made through serve's /revoke: only in the ledger (the same adapter call serve makes).
    const m2 = await opensslIds(path.join(pki, 'nodes/m2/server.pem'));
    const ledger = await openLedger(db);
    assert.equal(await ledger.revoke(m2.serial, m2.aki, 4, new Date()), 'revoked');
    await ledger.close();

    const admin = await opensslIds(path.join(pki, 'clients/admin/client.pem'));
    const r = await etcdTls(['revoke', pki, '--client', 'admin', '--reason', 'keyCompromise', '--db', db]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /added from the ledger: serial [0-9a-f]+ .*\(superseded\)/);
    const revoked = await list(db, '--status', 'revoked');
    assert.deepEqual(revoked.map((x) => [x.serialNumber, x.reason]).sort(), [[admin.serial, 1], [m2.serial, 4]].sort());
    assert.deepEqual(await crlSerials(path.join(pki, 'crl.der')), [admin.serial, m2.serial].sort(), 'the CRL is the union of revoked.json and the ledger');
    const record = JSON.parse(readFileSync(path.join(pki, 'revoked.json'), 'utf8')) as { revoked: { serial: string }[] };
    assert.equal(record.revoked.length, 2, 'the ledger-only revocation is now in revoked.json too');

    const renewed = await etcdTls(['renew', pki, '--member', 'm1', '--db', db]);
    assert.equal(renewed.code, 0, renewed.stderr);
    rows = await list(db);
    assert.equal(rows.length, LEAVES.length + 2);
    await assertLedgerMatchesFiles(pki, rows, ['nodes/m1/server.pem', 'nodes/m1/peer.pem']);
  });

  test('crl and gencrl with --db list what the ledger revoked', async (t) => {
    const { pki, db } = await genWithLedger(t, (dir) => path.join(dir, 'ledger.db'));
    const m3 = await opensslIds(path.join(pki, 'nodes/m3/peer.pem'));
    const ledger = await openLedger(db);
    assert.equal(await ledger.revoke(m3.serial, m3.aki, 5, new Date()), 'revoked');
    await ledger.close();
    const plain = await etcdTls(['crl', pki]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.deepEqual(await crlSerials(path.join(pki, 'crl.der')), [], 'without --db the CRL is revoked.json alone');
    const withDb = await etcdTls(['crl', pki, '--db', db]);
    assert.equal(withDb.code, 0, withDb.stderr);
    assert.match(withDb.stdout, /1 revoked \(1 added from the ledger\)/);
    assert.deepEqual(await crlSerials(path.join(pki, 'crl.der')), [m3.serial]);

    await writeFile(path.join(pki, 'serials.txt'), '12345\n');
    const g = await etcdTls(['gencrl', 'serials.txt', 'ca.pem', 'ca-key.pem', '--db', db], { cwd: pki });
    assert.equal(g.code, 0, g.stderr);
    await writeFile(path.join(pki, 'gencrl.der'), Buffer.from(g.stdout.trim(), 'base64'));
    assert.deepEqual(await crlSerials(path.join(pki, 'gencrl.der')), ['12345', m3.serial].sort());
  });

  test('a ledger that cannot be written fails the command with its code and writes nothing', async (t) => {
    const { dir, pki, db } = await genWithLedger(t, (d) => path.join(d, 'ledger.db'));
    const before = readFileSync(path.join(pki, 'nodes/m1/server.pem'), 'utf8');
    const ro = await etcdTls(['renew', pki, '--member', 'm1', '--db', `sqlite:${db}?mode=ro`]);
    assert.equal(ro.code, 1);
    assert.match(ro.stderr, /^etcd-tls: LEDGER_READ_ONLY: .*nothing was written\n$/);
    assert.equal(readFileSync(path.join(pki, 'nodes/m1/server.pem'), 'utf8'), before, 'the certificate was not replaced');

    const crlBefore = readFileSync(path.join(pki, 'crl.der'));
    const unreachable = 'postgres://etcd_tls:secretpw@127.0.0.189:5999/ledger';
    const rv = await etcdTls(['revoke', pki, '--client', 'admin', '--db', unreachable]);
    assert.equal(rv.code, 1);
    assert.match(rv.stderr, /^etcd-tls: LEDGER_UNAVAILABLE: cannot reach postgres:\/\/etcd_tls@127\.0\.0\.189:5999\/ledger: .*nothing was written\n$/);
    assert.doesNotMatch(rv.stderr, /secretpw/);
    assert.ok(readFileSync(path.join(pki, 'crl.der')).equals(crlBefore));

    const g = await etcdTls(['gen', 'cluster.yaml', '--out', 'fresh', '--db', unreachable], { cwd: dir });
    assert.equal(g.code, 1);
    assert.match(g.stderr, /etcd-tls: LEDGER_UNAVAILABLE: /);
    assert.equal(existsSync(path.join(dir, 'fresh')), false, 'gen wrote nothing');
  });
});

describe('--db on PostgreSQL', () => {
  let server: PostgresServer | null = null;
  test('gen and revoke record rows that cfssl 1.2.0 revokes in, and crl --db lists what cfssl revoked', async (t) => {
    if (!requireBinary(t, 'cfssl')) return;
    server = await startPostgres(t, { host: '127.0.0.185', port: 5437 });
    if (!server) return;
    const url = await server.createDatabase('day2');
    const m = await etcdTls(['db', 'migrate', '--db', url]);
    assert.equal(m.code, 0, m.stderr);
    const { dir, pki } = await genWithLedger(t, () => url);
    await assertLedgerMatchesFiles(pki, await list(url), LEAVES);

    const r = await etcdTls(['revoke', pki, '--member', 'm3', '--reason', 'cessationOfOperation', '--db', url]);
    assert.equal(r.code, 0, r.stderr);
    const m3 = [await opensslIds(path.join(pki, 'nodes/m3/server.pem')), await opensslIds(path.join(pki, 'nodes/m3/peer.pem'))];
    assert.deepEqual((await list(url, '--status', 'revoked')).map((x) => [x.serialNumber, x.reason]).sort(), m3.map((x) => [x.serial, 5]).sort());

    // cfssl's own certdb code finds gen's row by our encodings and revokes it.
    const kube = await opensslIds(path.join(pki, 'clients/kube-apiserver/client.pem'));
    const u = new URL(url);
    const dbJson = path.join(dir, 'db.json');
    await writeFile(dbJson, JSON.stringify({ driver: 'postgres', data_source: `host=${u.hostname} port=${u.port} user=${u.username} password=${u.password} dbname=${u.pathname.slice(1)} sslmode=disable` }));
    const c = await run('cfssl', ['revoke', '-db-config', dbJson, '-serial', kube.serial, '-aki', kube.aki, '-reason', 'keyCompromise']);
    assert.equal(c.code, 0, `${c.stdout}${c.stderr}`);
    const crl = await etcdTls(['crl', pki, '--db', url]);
    assert.equal(crl.code, 0, crl.stderr);
    assert.deepEqual(await crlSerials(path.join(pki, 'crl.der')), [kube.serial, ...m3.map((x) => x.serial)].sort());
    t.after(() => server?.stop());
  });
});

describe('serve with an encrypted CA key', () => {
  test('decrypts it with --ca-passphrase-file; workers sign; cfssl gencert -remote gets a certificate openssl verifies', async (t) => {
    if (!requireBinary(t, 'cfssl')) return;
    const dir = await makeTempDir(t, 'serve-encrypted-');
    await writeFile(path.join(dir, 'cluster.yaml'), SPEC);
    const passphrase = 'correct horse battery staple';
    const g = await etcdTls(['gen', 'cluster.yaml', '--out', 'pki', '--encrypt-ca-key'], { cwd: dir, env: { ETCD_TLS_CA_PASSPHRASE: passphrase } });
    assert.equal(g.code, 0, g.stderr);
    assert.match(readFileSync(path.join(dir, 'pki', 'ca-key.pem'), 'utf8'), /ENCRYPTED PRIVATE KEY/);
    await writeFile(path.join(dir, 'pass'), `${passphrase}\n`, { mode: 0o600 });
    await writeFile(path.join(dir, 'wrong'), 'not it\n', { mode: 0o600 });

    const wrong = await etcdTls(['serve', 'pki', '--ca-passphrase-file', 'wrong', '-address', '127.0.0.182', '-port', '8888'], { cwd: dir });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^etcd-tls: CA_PASSPHRASE_WRONG: /m);
    const missing = await etcdTls(['serve', 'pki', '-address', '127.0.0.182', '-port', '8888'], { cwd: dir });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^etcd-tls: CA_PASSPHRASE_MISSING: /m);

    const server = await startEtcdTlsServe(['pki', '--ca-passphrase-file', 'pass', '--workers', '2', '-address', '127.0.0.181', '-port', '8888'], { cwd: dir, url: 'http://127.0.0.181:8888' });
    t.after(() => server.stop());
    assert.match(server.logs(), /\(2 workers\)/);
    await writeFile(path.join(dir, 'csr.json'), JSON.stringify({ CN: 'remote-client', hosts: ['remote.example', '127.0.0.181'], key: { algo: 'ecdsa', size: 256 } }));
    // Several requests, so both workers (each with its own copy of the key) sign some.
    for (let i = 0; i < 4; i++) {
      const r = await run('cfssl', ['gencert', '-remote', 'http://127.0.0.181:8888', 'csr.json'], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      const cert = (JSON.parse(r.stdout) as { cert: string }).cert;
      await writeFile(path.join(dir, `remote-${i}.pem`), cert);
      const v = await run('openssl', ['verify', '-CAfile', path.join(dir, 'pki', 'ca.pem'), path.join(dir, `remote-${i}.pem`)]);
      assert.equal(v.code, 0, v.stdout + v.stderr);
    }
    assert.equal((await list(path.join(dir, 'pki', 'ledger.db'))).length, 4, "serve's default ledger beside the CA recorded each");
    assert.match(readFileSync(path.join(dir, 'pki', 'ca-key.pem'), 'utf8'), /ENCRYPTED PRIVATE KEY/, 'the key on disk stays encrypted');
    // The workers got the passphrase over IPC: it is in no worker's argv or environment.
    const workers = (await run('ps', ['--ppid', String(server.pid), '-o', 'pid='])).stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    assert.equal(workers.length, 2, `workers of ${server.pid}: ${workers.join(', ')}`);
    for (const pid of workers)
      for (const f of ['cmdline', 'environ']) assert.equal(readFileSync(`/proc/${pid}/${f}`, 'utf8').includes(passphrase), false, `/proc/${pid}/${f} holds the passphrase`);
  });
});
