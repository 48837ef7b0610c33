// The SQLite ledger on whichever driver this Node has (node:sqlite on >= 22.13, better-sqlite3 on 20):
// rows in cfssl's certdb encodings, group commit, duplicate serials, revocation, read-only files.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { openLedger } from '../../src/ledger/open.js';
import { LedgerError, type CertificateRecord } from '../../src/ledger/ledger.js';
import { makeTempDir } from '../helpers/tmp.js';
import { findBinary, requireBinary } from '../helpers/components.js';

function record(serial: string, aki = 'ab01', over: Partial<CertificateRecord> = {}): CertificateRecord {
  return {
    serialNumber: serial,
    authorityKeyIdentifier: aki,
    caLabel: '',
    status: 'good',
    reason: 0,
    expiry: new Date('2030-01-01T00:00:00Z'),
    revokedAt: null,
    pem: `-----BEGIN CERTIFICATE-----\n${serial}\n-----END CERTIFICATE-----\n`,
    issuedAt: new Date('2026-01-01T00:00:00.123Z'),
    notBefore: new Date('2025-12-31T23:55:00Z'),
    sans: ['member1', '127.0.0.1'],
    commonName: `cn-${serial}`,
    metadata: { profile: 'peer' },
    ...over,
  };
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof LedgerError && e.code === code);
}

/** A plain connection to `file` with the driver the ledger uses on this Node (to play another process). */
function rawConnection(file: string): { exec(sql: string): void; close(): void } {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 13)) {
    const getBuiltin = (process as unknown as { getBuiltinModule: (id: string) => { DatabaseSync: new (f: string) => { exec(sql: string): void; close(): void } } }).getBuiltinModule;
    return new (getBuiltin('node:sqlite').DatabaseSync)(file);
  }
  const BetterSqlite = createRequire(import.meta.url)('better-sqlite3') as new (f: string) => { exec(sql: string): void; close(): void };
  return new BetterSqlite(file);
}

describe('SQLite ledger', () => {
  test('another connection holding the write lock: the insert waits without stopping the event loop, then commits', async (t) => {
    const file = path.join(await makeTempDir(t, 'ledger-'), 'ledger.db');
    const ledger = await openLedger(`sqlite:${file}`);
    t.after(() => ledger.close());
    await ledger.insert([record('1')]);
    const other = rawConnection(file);
    t.after(() => other.close());
    other.exec('BEGIN IMMEDIATE');
    let settled = false;
    const pending = ledger.insert([record('2')]).finally(() => (settled = true));
    // SQLite's busy handler would hold this very thread (the one that must COMMIT) for busy_timeout.
    let turns = 0;
    while (turns < 50) await new Promise((r) => setImmediate(r)).then(() => turns++);
    assert.equal(settled, false, 'the insert waits for the lock');
    other.exec('COMMIT');
    await pending;
    assert.deepEqual((await ledger.list()).map((r) => r.serialNumber).sort(), ['1', '2']);
  });

  test('records round-trip; concurrent inserts share commits; a duplicate fails only its own call', async (t) => {
    const file = path.join(await makeTempDir(t, 'ledger-'), 'ledger.db');
    const ledger = await openLedger(`sqlite:${file}`);
    t.after(() => ledger.close());
    const calls = Array.from({ length: 50 }, (_, i) => ledger.insert([record(String(1000 + i))]));
    const dup = ledger.insert([record('1007')]);
    await Promise.all(calls);
    await rejectsWith(dup, 'DUPLICATE_SERIAL');
    assert.equal((await ledger.list()).length, 50);
    // Same serial under another CA is a different certificate.
    await ledger.insert([record('1007', 'cd02')]);
    const [got] = await ledger.get('1007', 'AB01');
    assert.deepEqual(got, record('1007'));
    assert.equal((await ledger.get('1007')).length, 2);
  });

  test('revoke: revoked, then already-revoked; unknown serials; the CRL set is per CA and unexpired', async (t) => {
    const file = path.join(await makeTempDir(t, 'ledger-'), 'ledger.db');
    const ledger = await openLedger(file);
    t.after(() => ledger.close());
    await ledger.insert([record('1'), record('2', 'ab01', { expiry: new Date('2020-01-01T00:00:00Z') }), record('3', 'ff')]);
    const at = new Date('2026-06-01T00:00:00Z');
    assert.equal(await ledger.revoke('1', 'ab01', 1, at), 'revoked');
    assert.equal(await ledger.revoke('1', 'ab01', 4, at), 'already-revoked');
    assert.equal(await ledger.revoke('2', 'ab01', 1, at), 'revoked');
    assert.equal(await ledger.revoke('3', 'ab01', 1, at), 'unknown');
    assert.equal(await ledger.revoke('3', 'ff', 1, at), 'revoked');
    const crl = await ledger.revokedUnexpired('ab01', new Date('2026-07-01T00:00:00Z'));
    assert.deepEqual(crl.map((r) => [r.serialNumber, r.reason, r.revokedAt?.toISOString()]), [['1', 1, at.toISOString()]]);
    assert.deepEqual((await ledger.list({ status: 'good' })).length, 0);
    assert.deepEqual((await ledger.list({ expiringBefore: new Date('2021-01-01T00:00:00Z') })).map((r) => r.serialNumber), ['2']);
  });

  test("the file is cfssl's certdb: the sqlite3 shell reads serials as text and times in Go's format", async (t) => {
    if (!requireBinary(t, 'sqlite3')) return;
    const sqlite3 = findBinary('sqlite3') as string;
    const file = path.join(await makeTempDir(t, 'ledger-'), 'ledger.db');
    const ledger = await openLedger(file);
    await ledger.insert([record('123456789012345678901234567890')]);
    await ledger.close();
    const out = spawnSync(sqlite3, [file, "SELECT typeof(serial_number), serial_number, authority_key_identifier, status, expiry, sans FROM certificates"], { encoding: 'utf8' });
    assert.equal(out.stdout.trim(), 'text|123456789012345678901234567890|ab01|good|2030-01-01 00:00:00.000+00:00|["member1","127.0.0.1"]');
  });

  test('a read-only ledger (sqlite:PATH?mode=ro): reads work, inserts and revocations fail READ_ONLY', async (t) => {
    const dir = await makeTempDir(t, 'ledger-');
    const file = path.join(dir, 'ledger.db');
    const first = await openLedger(file);
    await first.insert([record('1')]);
    await first.close();
    const ledger = await openLedger(`sqlite:${file}?mode=ro`);
    await rejectsWith(ledger.revoke('1', 'ab01', 1, new Date()), 'READ_ONLY');
    t.after(() => ledger.close());
    assert.equal((await ledger.get('1')).length, 1);
    await rejectsWith(ledger.insert([record('2')]), 'READ_ONLY');
  });

  test('a file that is not a database is SCHEMA; a URL of another scheme is BAD_URL', async (t) => {
    const dir = await makeTempDir(t, 'ledger-');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path.join(dir, 'junk.db'), 'not a database at all, just text that is long enough to be a header'.repeat(20));
    await rejectsWith(openLedger(path.join(dir, 'junk.db')), 'SCHEMA');
    await rejectsWith(openLedger('mysql://x/y'), 'BAD_URL');
  });
});
