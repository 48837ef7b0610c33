/**
 * `etcd-tls db migrate` and `etcd-tls ledger list|show`, run as a user runs them, on a real
 * PostgreSQL 15 (127.0.0.165:5434) and on a SQLite ledger file.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { CertificateRecord } from '../../src/ledger/ledger.js';
import { openLedger } from '../../src/ledger/open.js';
import { etcdTls } from '../helpers/components.js';
import { POSTGRES_PASSWORD, startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { makeTempDir } from '../helpers/tmp.js';

const PG_HOST = '127.0.0.165';
const PG_PORT = 5434;
const DAY = 86_400_000;
const NOW = Date.now();

let server: PostgresServer | null = null;
let dbCount = 0;
async function postgresUrl(t: TestContext): Promise<string | null> {
  server ??= await startPostgres(t, { host: PG_HOST, port: PG_PORT });
  return server ? server.createDatabase(`cli_${++dbCount}`) : null;
}

function record(over: Partial<CertificateRecord> = {}): CertificateRecord {
  const sn = BigInt(`0x7f${randomBytes(15).toString('hex')}`).toString(10);
  return {
    serialNumber: sn,
    authorityKeyIdentifier: 'aa'.repeat(20),
    caLabel: 'etcd-ca',
    status: 'good',
    reason: 0,
    expiry: new Date(NOW + 365 * DAY),
    revokedAt: null,
    pem: `-----BEGIN CERTIFICATE-----\nMIIB${sn}\n-----END CERTIFICATE-----\n`,
    issuedAt: new Date(NOW),
    notBefore: new Date(NOW - 300_000),
    sans: ['member1', '10.0.0.1'],
    commonName: 'member1',
    metadata: null,
    ...over,
  };
}

describe('db migrate', () => {
  test('creates cfssl certdb tables, then finds nothing to do', async (t) => {
    const url = await postgresUrl(t);
    if (!url) return;
    const first = await etcdTls(['db', 'migrate', '--db', url]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /created +table certificates/);
    assert.match(first.stdout, /created +column certificates\.sans/);
    assert.doesNotMatch(first.stdout + first.stderr, new RegExp(POSTGRES_PASSWORD), 'the password is never printed');
    const second = await etcdTls(['db', 'migrate', '--db', url, '--json']);
    assert.equal(second.code, 0, second.stderr);
    const report = JSON.parse(second.stdout) as { steps: { what: string; action: string }[] };
    assert.ok(report.steps.length >= 8);
    assert.deepEqual(new Set(report.steps.map((s) => s.action)), new Set(['present']));
    const pk = await (server as PostgresServer).query(
      `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = 'certificates'::regclass AND i.indisprimary ORDER BY a.attname`,
      url.split('/').pop(),
    );
    assert.deepEqual(pk.map((r) => r.attname), ['authority_key_identifier', 'serial_number']);
  });

  test("completes a database cfssl's first migration made, keeping its rows", async (t) => {
    const url = await postgresUrl(t);
    if (!url) return;
    const db = url.split('/').pop();
    await (server as PostgresServer).query(
      `CREATE TABLE certificates (serial_number bytea NOT NULL, authority_key_identifier bytea NOT NULL, ca_label bytea,
         status bytea NOT NULL, reason int, expiry timestamptz, revoked_at timestamptz, pem bytea NOT NULL,
         PRIMARY KEY(serial_number, authority_key_identifier));
       INSERT INTO certificates VALUES ('12345', '${'bb'.repeat(20)}', '', 'good', 0, '2031-01-01Z', '0001-01-01Z', 'PEM');`,
      db,
    );
    const r = await etcdTls(['db', 'migrate', '--db', url]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /present +table certificates/);
    assert.match(r.stdout, /created +column certificates\.issued_at/);
    const show = await etcdTls(['ledger', 'show', '12345', '--db', url, '--json']);
    assert.equal(show.code, 0, show.stderr);
    assert.equal((JSON.parse(show.stdout) as CertificateRecord[])[0]?.authorityKeyIdentifier, 'bb'.repeat(20));
  });

  test('an unreachable database or a bad URL is one line with a stable code, exit 1', async () => {
    const cases: [string[], RegExp][] = [
      [['db', 'migrate', '--db', 'postgres://u:secretpw@127.0.0.166:5439/x'], /^etcd-tls: LEDGER_UNAVAILABLE: .*127\.0\.0\.166:5439/],
      [['db', 'migrate', '--db', 'postgres://u:secretpw@127.0.0.166:5439'], /^etcd-tls: BAD_DB_URL: .*no database name/],
      [['db', 'migrate'], /^etcd-tls: MISSING_FLAG: db migrate: --db URL is required/],
      [['db', 'upgrade', '--db', 'x'], /^etcd-tls: USAGE: db: unknown subcommand 'upgrade'/],
      [['ledger', 'list', '--db', 'postgres://u:secretpw@127.0.0.166:5439/x'], /^etcd-tls: LEDGER_UNAVAILABLE: /],
    ];
    for (const [args, want] of cases) {
      const r = await etcdTls(args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, want);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /secretpw/);
    }
  });

  test('ledger list on a database db migrate never ran on says to run it', async (t) => {
    const url = await postgresUrl(t);
    if (!url) return;
    const r = await etcdTls(['ledger', 'list', '--db', url]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^etcd-tls: LEDGER_SCHEMA: .*etcd-tls db migrate/);
  });
});

describe('ledger list and show, on SQLite and PostgreSQL alike', () => {
  const backends: [string, (t: TestContext) => Promise<string | null>][] = [
    ['sqlite', async (t) => path.join(await makeTempDir(t, 'ledger-cli-'), 'ledger.db')],
    [
      'postgresql',
      async (t) => {
        const url = await postgresUrl(t);
        if (url) assert.equal((await etcdTls(['db', 'migrate', '--db', url])).code, 0);
        return url;
      },
    ],
  ];
  for (const [name, makeDb] of backends) {
    test(`${name}: filters, order, show by decimal or hex serial, JSON`, async (t) => {
      const db = await makeDb(t);
      if (!db) return;
      const soon = record({ expiry: new Date(NOW + 10 * DAY), commonName: 'member2', sans: ['member2'] });
      const later = record();
      const revoked = record({ commonName: 'admin', sans: [] });
      const ledger = await openLedger(db);
      await ledger.insert([soon, later, revoked]);
      assert.equal(await ledger.revoke(revoked.serialNumber, revoked.authorityKeyIdentifier, 1, new Date(NOW)), 'revoked');
      await ledger.close();

      const all = await etcdTls(['ledger', 'list', '--db', db]);
      assert.equal(all.code, 0, all.stderr);
      const lines = all.stdout.trim().split('\n');
      assert.match(lines[0] as string, /^STATUS +EXPIRES +COMMON NAME +SERIAL +SANS$/);
      assert.match(lines[1] as string, new RegExp(`^good +\\S+ +member2 +${soon.serialNumber} +member2$`), 'soonest expiry first');
      assert.equal(lines.at(-1), '3 certificates');

      const listJson = async (...args: string[]): Promise<string[]> => {
        const r = await etcdTls(['ledger', 'list', '--db', db, '--json', ...args]);
        assert.equal(r.code, 0, r.stderr);
        return (JSON.parse(r.stdout) as CertificateRecord[]).map((x) => x.serialNumber).sort();
      };
      assert.deepEqual(await listJson('--status', 'revoked'), [revoked.serialNumber]);
      assert.deepEqual(await listJson('--expiring-within', '30d'), [soon.serialNumber]);
      assert.deepEqual(await listJson('--status', 'good', '--expiring-within', '400d'), [soon.serialNumber, later.serialNumber].sort());
      assert.deepEqual(await listJson('--ca-label', 'other'), []);

      const hex = BigInt(revoked.serialNumber).toString(16);
      for (const spelled of [revoked.serialNumber, `0x${hex}`, (hex.length % 2 ? `0${hex}` : hex).match(/../g)!.join(':').toUpperCase()]) {
        const show = await etcdTls(['ledger', 'show', spelled, '--db', db]);
        assert.equal(show.code, 0, `${spelled}: ${show.stderr}`);
        assert.match(show.stdout, new RegExp(`^serial: +${revoked.serialNumber} \\(0x${hex}\\)$`, 'm'));
        assert.match(show.stdout, /^status: +revoked at \S+, reason 1$/m);
        assert.ok(show.stdout.endsWith(revoked.pem), show.stdout);
      }
      const json = await etcdTls(['ledger', 'show', soon.serialNumber, '--db', db, '--json']);
      const [shown] = JSON.parse(json.stdout) as Record<string, unknown>[];
      assert.equal(shown?.pem, soon.pem);
      assert.equal(shown?.expiry, soon.expiry.toISOString());

      const missing = await etcdTls(['ledger', 'show', '42', '--db', db]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^etcd-tls: NOT_FOUND: ledger show: serial 42 is not recorded/);
    });
  }
});

describe('ledger --db on SQLite', () => {
  test("a directory means serve's ledger beside its CA; a missing file is reported, never created", async (t) => {
    const dir = await makeTempDir(t, 'ledger-dir-');
    const r = record();
    const ledger = await openLedger(path.join(dir, 'ledger.db'));
    await ledger.insert([r]);
    await ledger.close();
    const list = await etcdTls(['ledger', 'list', '--db', dir, '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual((JSON.parse(list.stdout) as CertificateRecord[]).map((x) => x.serialNumber), [r.serialNumber]);

    const typo = path.join(dir, 'ledgr.db');
    const missing = await etcdTls(['ledger', 'list', '--db', typo]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^etcd-tls: FILE_NOT_FOUND: --db .*ledgr\.db: no ledger at /);
    assert.equal(existsSync(typo), false);
  });
});
