/**
 * cfssl itself, pointed at an etcd-tls PostgreSQL ledger (PostgreSQL 15 on 127.0.0.165:5436): the
 * rows we write are the rows cfssl's certdb reads and updates.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { migratePostgres, openPostgresLedger } from '../../src/ledger/postgres.js';
import { requireBinary, run } from '../helpers/components.js';
import { startPostgres } from '../helpers/postgres.js';
import { makeTempDir } from '../helpers/tmp.js';

test('cfssl revoke -db-config revokes a certificate etcd-tls recorded in PostgreSQL', async (t) => {
  if (!requireBinary(t, 'cfssl')) return;
  const pg = await startPostgres(t, { host: '127.0.0.165', port: 5436 });
  if (!pg) return;
  const url = await pg.createDatabase('cfssl_interop');
  await migratePostgres(url);
  const ledger = await openPostgresLedger(url);
  t.after(() => ledger.close());
  const serial = BigInt(`0x${randomBytes(20).toString('hex')}`).toString(10);
  const aki = randomBytes(20).toString('hex');
  const now = new Date();
  await ledger.insert([
    {
      serialNumber: serial,
      authorityKeyIdentifier: aki,
      caLabel: '',
      status: 'good',
      reason: 0,
      expiry: new Date(now.getTime() + 86_400_000),
      revokedAt: null,
      pem: '-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n',
      issuedAt: now,
      notBefore: now,
      sans: ['member1'],
      commonName: 'member1',
      metadata: null,
    },
  ]);
  const dir = await makeTempDir(t, 'cfssl-pg-');
  const u = new URL(url);
  const dataSource = `host=${u.hostname} port=${u.port} user=${u.username} password=${u.password} dbname=${u.pathname.slice(1)} sslmode=disable`;
  await writeFile(path.join(dir, 'db.json'), JSON.stringify({ driver: 'postgres', data_source: dataSource }));
  const r = await run('cfssl', ['revoke', '-db-config', path.join(dir, 'db.json'), '-serial', serial, '-aki', aki, '-reason', 'keyCompromise']);
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  const [rec] = await ledger.get(serial, aki);
  assert.equal(rec?.status, 'revoked');
  assert.equal(rec?.reason, 1);
  assert.deepEqual((await ledger.revokedUnexpired(aki, new Date())).map((x) => x.serialNumber), [serial]);
});
