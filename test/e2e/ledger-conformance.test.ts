/**
 * One table of cases, run against every ledger adapter on its real database: the same behaviour from
 * SQLite and from PostgreSQL (15, started by the test on 127.0.0.165:5432).
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { LedgerError, type CertificateRecord, type Ledger } from '../../src/ledger/ledger.js';
import { openLedger } from '../../src/ledger/open.js';
import { migratePostgres, openPostgresLedger } from '../../src/ledger/postgres.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { makeTempDir } from '../helpers/tmp.js';

const PG_HOST = '127.0.0.165';
const PG_PORT = 5432;
/** Nothing listens here: the address is ours, the port is not PostgreSQL's. */
const UNREACHABLE_URL = `postgres://postgres:x@127.0.0.166:5439/ledger`;

interface Backend {
  name: string;
  /** A ledger URL whose database cannot be reached or opened. */
  unreachableUrl: string;
  /** A fresh, empty ledger; null when the test was skipped. */
  open(t: TestContext): Promise<{ ledger: Ledger; reopen: () => Promise<Ledger> } | null>;
  /** How many distinct commits wrote these records, when the database can tell. */
  commitsOf?(t: TestContext, records: readonly CertificateRecord[]): Promise<number>;
}

let server: PostgresServer | null = null;
let dbCount = 0;
const dbOf = new WeakMap<TestContext, string>();

async function postgres(t: TestContext): Promise<PostgresServer | null> {
  server ??= await startPostgres(t, { host: PG_HOST, port: PG_PORT });
  return server;
}

const POSTGRES: Backend = {
  name: 'postgresql',
  unreachableUrl: UNREACHABLE_URL,
  async open(t) {
    const pg = await postgres(t);
    if (!pg) return null;
    const name = `conformance_${++dbCount}`;
    const url = await pg.createDatabase(name);
    await migratePostgres(url);
    dbOf.set(t, name);
    const opened: Ledger[] = [];
    t.after(() => Promise.all(opened.map((l) => l.close())));
    const reopen = async (): Promise<Ledger> => {
      const l = await openPostgresLedger(url);
      opened.push(l);
      return l;
    };
    return { ledger: await reopen(), reopen };
  },
  async commitsOf(t, records) {
    // xmin is the id of the transaction that wrote the row: one per commit.
    const serials = records.map((r) => `'${r.serialNumber}'`).join(',');
    const rows = await (server as PostgresServer).query(
      `SELECT count(DISTINCT xmin::text)::int AS n FROM certificates WHERE convert_from(serial_number, 'UTF8') IN (${serials})`,
      dbOf.get(t),
    );
    return rows[0]?.n as number;
  },
};

const SQLITE: Backend = {
  name: 'sqlite',
  unreachableUrl: '/nonexistent-etcd-tls-dir/ledger.db',
  async open(t) {
    const file = path.join(await makeTempDir(t, 'ledger-conformance-'), 'ledger.db');
    const opened: Ledger[] = [];
    t.after(() => Promise.all(opened.map((l) => l.close())));
    const reopen = async (): Promise<Ledger> => {
      const l = await openLedger(file);
      opened.push(l);
      return l;
    };
    return { ledger: await reopen(), reopen };
  },
};

const BACKENDS: readonly Backend[] = [SQLITE, POSTGRES];

const DAY = 86_400_000;
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const AKI_A = 'a1b2c3d4e5f60718293a4b5c6d7e8f9001122334';
const AKI_B = '00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff';

function serial(): string {
  return BigInt(`0x${randomBytes(20).toString('hex')}`).toString(10);
}

function record(over: Partial<CertificateRecord> = {}): CertificateRecord {
  const sn = serial();
  return {
    serialNumber: sn,
    authorityKeyIdentifier: AKI_A,
    caLabel: 'etcd-ca',
    status: 'good',
    reason: 0,
    expiry: new Date(NOW.getTime() + 365 * DAY),
    revokedAt: null,
    pem: `-----BEGIN CERTIFICATE-----\nMII${sn}\n-----END CERTIFICATE-----\n`,
    issuedAt: NOW,
    notBefore: new Date(NOW.getTime() - 300_000),
    sans: ['member1', '10.0.0.1'],
    commonName: 'member1',
    metadata: null,
    ...over,
  };
}

async function rejectsWith(p: Promise<unknown>, code: LedgerError['code']): Promise<LedgerError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof LedgerError, `expected LedgerError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected LedgerError ${code}, but it resolved`);
}

const serials = (rs: readonly CertificateRecord[]): string[] => rs.map((r) => r.serialNumber).sort();

for (const backend of BACKENDS) {
  describe(`ledger on ${backend.name}`, () => {
    test('a record reads back exactly as inserted', async (t) => {
      const o = await backend.open(t);
      if (!o) return;
      const plain = record();
      const rich = record({ authorityKeyIdentifier: AKI_B, sans: [], metadata: { requester: 'ops', tags: ['a', 1] }, commonName: 'admin' });
      await o.ledger.insert([plain, rich]);
      assert.deepEqual(await o.ledger.get(plain.serialNumber), [plain]);
      assert.deepEqual(await o.ledger.get(rich.serialNumber, AKI_B), [rich]);
      assert.deepEqual(await o.ledger.get(rich.serialNumber, AKI_A), []);
      // Another connection (another replica) sees it: it was committed, not cached.
      assert.deepEqual(await (await o.reopen()).get(plain.serialNumber, AKI_A), [plain]);
    });

    test('the same serial of the same CA is refused; under another CA it is a different certificate', async (t) => {
      const o = await backend.open(t);
      if (!o) return;
      const first = record();
      await o.ledger.insert([first]);
      const err = await rejectsWith(o.ledger.insert([{ ...first, pem: 'other' }]), 'DUPLICATE_SERIAL');
      assert.match(err.message, new RegExp(first.serialNumber));
      await o.ledger.insert([{ ...first, authorityKeyIdentifier: AKI_B }]);
      assert.equal((await o.ledger.get(first.serialNumber)).length, 2);
      assert.equal((await o.ledger.get(first.serialNumber, AKI_A))[0]?.pem, first.pem);
    });

    test('two ledgers racing on one serial: the database lets exactly one in', async (t) => {
      const o = await backend.open(t);
      if (!o) return;
      const other = await o.reopen();
      for (let round = 0; round < 10; round++) {
        const r = record();
        const results: PromiseSettledResult<void>[] = await Promise.allSettled([o.ledger.insert([r]), other.insert([{ ...r, pem: 'second' }])]);
        assert.equal(results.filter((x) => x.status === 'fulfilled').length, 1, JSON.stringify(results));
        const failed = results.find((x) => x.status === 'rejected') as PromiseRejectedResult;
        assert.equal((failed.reason as LedgerError).code, 'DUPLICATE_SERIAL');
        assert.equal((await other.get(r.serialNumber)).length, 1);
      }
    });

    test('a duplicate in a group of concurrent inserts fails only its own call', async (t) => {
      const o = await backend.open(t);
      if (!o) return;
      const existing = record();
      await o.ledger.insert([existing]);
      const good = Array.from({ length: 20 }, () => [record(), record()]);
      const calls = [...good.map((rs) => o.ledger.insert(rs)), o.ledger.insert([record(), existing])];
      const results = await Promise.allSettled(calls);
      assert.deepEqual(results.slice(0, 20).map((r) => r.status), Array(20).fill('fulfilled'));
      assert.equal(results[20]?.status, 'rejected');
      assert.equal(((results[20] as PromiseRejectedResult).reason as LedgerError).code, 'DUPLICATE_SERIAL');
      // All or nothing per call: the new record of the failed call is not there either.
      assert.equal((await o.ledger.list()).length, 1 + 40);
    });

    test('revoke: revoked once, then already-revoked; an unknown serial is unknown', async (t) => {
      const o = await backend.open(t);
      if (!o) return;
      const r = record();
      await o.ledger.insert([r]);
      const at = new Date(NOW.getTime() + 1000);
      assert.equal(await o.ledger.revoke(r.serialNumber, AKI_A, 1, at), 'revoked');
      assert.equal(await o.ledger.revoke(r.serialNumber, AKI_A, 4, new Date(at.getTime() + DAY)), 'already-revoked');
      assert.equal(await o.ledger.revoke(r.serialNumber, AKI_B, 1, at), 'unknown');
      assert.equal(await o.ledger.revoke(serial(), AKI_A, 1, at), 'unknown');
      const [after] = await o.ledger.get(r.serialNumber, AKI_A);
      // The first revocation's reason and time stand.
      assert.deepEqual(after, { ...r, status: 'revoked', reason: 1, revokedAt: at });
    });

    test('revokedUnexpired lists exactly the revoked, unexpired certificates of one CA', async (t) => {
      const o = await backend.open(t);
      if (!o) return;
      const revokedLive = record();
      const revokedExpired = record({ expiry: new Date(NOW.getTime() - DAY), notBefore: new Date(NOW.getTime() - 30 * DAY) });
      const revokedOtherCa = record({ authorityKeyIdentifier: AKI_B });
      const good = record();
      await o.ledger.insert([revokedLive, revokedExpired, revokedOtherCa, good]);
      for (const r of [revokedLive, revokedExpired, revokedOtherCa]) {
        assert.equal(await o.ledger.revoke(r.serialNumber, r.authorityKeyIdentifier, 1, NOW), 'revoked');
      }
      assert.deepEqual(serials(await o.ledger.revokedUnexpired(AKI_A, NOW)), [revokedLive.serialNumber]);
      assert.deepEqual(serials(await o.ledger.revokedUnexpired(AKI_B, NOW)), [revokedOtherCa.serialNumber]);
      // Once it expires it leaves the CRL.
      assert.deepEqual(await o.ledger.revokedUnexpired(AKI_A, new Date(revokedLive.expiry.getTime() + 1000)), []);
    });

    test('list filters by status, expiry and CA label, alone and together', async (t) => {
      const o = await backend.open(t);
      if (!o) return;
      const soon = record({ expiry: new Date(NOW.getTime() + 5 * DAY) });
      const later = record({ expiry: new Date(NOW.getTime() + 100 * DAY) });
      const otherLabel = record({ caLabel: 'front-proxy', expiry: new Date(NOW.getTime() + 6 * DAY) });
      const revokedSoon = record({ expiry: new Date(NOW.getTime() + 7 * DAY) });
      await o.ledger.insert([soon, later, otherLabel, revokedSoon]);
      await o.ledger.revoke(revokedSoon.serialNumber, AKI_A, 0, NOW);
      const tenDays = new Date(NOW.getTime() + 10 * DAY);
      const cases: [Parameters<Ledger['list']>[0], CertificateRecord[]][] = [
        [undefined, [soon, later, otherLabel, revokedSoon]],
        [{ status: 'good' }, [soon, later, otherLabel]],
        [{ status: 'revoked' }, [revokedSoon]],
        [{ expiringBefore: tenDays }, [soon, otherLabel, revokedSoon]],
        [{ caLabel: 'front-proxy' }, [otherLabel]],
        [{ status: 'good', expiringBefore: tenDays, caLabel: 'etcd-ca' }, [soon]],
      ];
      for (const [filter, want] of cases) {
        assert.deepEqual(serials(await o.ledger.list(filter)), serials(want), JSON.stringify(filter));
      }
      // Soonest expiry first: what an operator looking for renewals wants on top.
      assert.deepEqual((await o.ledger.list({ status: 'good' })).map((r) => r.serialNumber), [soon, otherLabel, later].map((r) => r.serialNumber));
    });

    test('a database that cannot be reached is UNAVAILABLE, promptly', async () => {
      await rejectsWith(openLedger(backend.unreachableUrl), 'UNAVAILABLE');
    });

    test('concurrent inserts all land, sharing commits', async (t) => {
      const o = await backend.open(t);
      if (!o) return;
      const records = Array.from({ length: 200 }, () => record());
      await Promise.all(records.map((r) => o.ledger.insert([r])));
      assert.deepEqual(serials(await (await o.reopen()).list()), serials(records));
      if (backend.commitsOf) {
        const commits = await backend.commitsOf(t, records);
        assert.ok(commits < records.length / 2, `200 concurrent inserts took ${commits} commits`);
      }
    });
  });
}

describe('ledger on postgresql: the database, not the adapter, decides', () => {
  test('an unreachable server is named without the password', async () => {
    const err = await rejectsWith(openPostgresLedger(UNREACHABLE_URL, { connectTimeoutMs: 2000 }), 'UNAVAILABLE');
    assert.match(err.message, /127\.0\.0\.166:5439/);
    assert.doesNotMatch(err.message, /postgres:x@/);
  });

  test('a database without tables is SCHEMA, naming db migrate', async (t) => {
    const pg = await postgres(t);
    if (!pg) return;
    const url = await pg.createDatabase(`empty_${++dbCount}`);
    const err = await rejectsWith(openPostgresLedger(url), 'SCHEMA');
    assert.match(err.message, /etcd-tls db migrate/);
  });

  test('a read-only database is READ_ONLY on insert and revoke; reads still work', async (t) => {
    const pg = await postgres(t);
    if (!pg) return;
    const name = `readonly_${++dbCount}`;
    const url = await pg.createDatabase(name);
    await migratePostgres(url);
    const writer = await openPostgresLedger(url);
    const r = record();
    await writer.insert([r]);
    await writer.close();
    await pg.query(`ALTER DATABASE ${name} SET default_transaction_read_only = on`);
    const ledger = await openPostgresLedger(url);
    t.after(() => ledger.close());
    await rejectsWith(ledger.insert([record()]), 'READ_ONLY');
    await rejectsWith(ledger.revoke(r.serialNumber, AKI_A, 1, NOW), 'READ_ONLY');
    assert.equal((await ledger.get(r.serialNumber)).length, 1);
  });

  test('the server going away mid-run is UNAVAILABLE for the next insert, not a hang or a crash', async (t) => {
    const pg = await startPostgres(t, { host: PG_HOST, port: PG_PORT + 1 });
    if (!pg) return;
    const url = await pg.createDatabase('goes_away');
    await migratePostgres(url);
    const ledger = await openPostgresLedger(url, { connectTimeoutMs: 2000 });
    t.after(() => ledger.close());
    await ledger.insert([record()]);
    await pg.stop();
    await rejectsWith(ledger.insert([record()]), 'UNAVAILABLE');
    await rejectsWith(ledger.list(), 'UNAVAILABLE');
  });

  test('rows are cfssl certdb rows: serial as decimal text, AKI as lowercase hex, status as text', async (t) => {
    const o = await POSTGRES.open(t);
    if (!o) return;
    const r = record();
    await o.ledger.insert([r]);
    await o.ledger.revoke(r.serialNumber, AKI_A, 4, NOW);
    const [row] = await (server as PostgresServer).query(
      `SELECT convert_from(serial_number, 'UTF8') AS sn, convert_from(authority_key_identifier, 'UTF8') AS aki,
              convert_from(status, 'UTF8') AS status, reason, convert_from(ca_label, 'UTF8') AS label, sans, common_name
         FROM certificates`,
      dbOf.get(t),
    );
    assert.deepEqual(row, { sn: r.serialNumber, aki: AKI_A, status: 'revoked', reason: 4, label: 'etcd-ca', sans: r.sans, common_name: 'member1' });
  });

  test('a row cfssl wrote (zero revoked_at, no metadata columns filled) reads back', async (t) => {
    const o = await POSTGRES.open(t);
    if (!o) return;
    const sn = serial();
    await (server as PostgresServer).query(
      `INSERT INTO certificates (serial_number, authority_key_identifier, ca_label, status, reason, expiry, revoked_at, pem)
       VALUES ('${sn}', '${AKI_A}', '', 'good', 0, '2030-01-01T00:00:00Z', '0001-01-01 00:00:00+00', 'PEM')`,
      dbOf.get(t),
    );
    const [got] = await o.ledger.get(sn);
    assert.equal(got?.status, 'good');
    assert.equal(got?.revokedAt, null);
    assert.equal(got?.expiry.toISOString(), '2030-01-01T00:00:00.000Z');
    assert.equal(await o.ledger.revoke(sn, AKI_A, 1, NOW), 'revoked');
    assert.deepEqual(serials(await o.ledger.revokedUnexpired(AKI_A, NOW)), [sn]);
  });
});
