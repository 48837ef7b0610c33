/**
 * Two `etcd-tls serve` replicas (127.0.0.166 and 127.0.0.167) on one PostgreSQL 15 (127.0.0.165:5435)
 * behave as one CA: no serial issued twice, a revocation made through one is in the CRL the other
 * serves, and a replica SIGKILLed mid-load loses no record of a certificate a client received.
 */
import { strict as assert } from 'node:assert';
import type { ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import * as path from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import type { Ledger } from '../../src/ledger/ledger.js';
import { openPostgresLedger } from '../../src/ledger/postgres.js';
import { parseCrl } from '../../src/pki/crl.js';
import { etcdTls } from '../helpers/components.js';
import { startEtcdTlsServe, type ServerHandle } from '../helpers/serve.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { makeTempDir } from '../helpers/tmp.js';

const PG = { host: '127.0.0.165', port: 5435 };
const REPLICA_ADDRESSES = ['127.0.0.166', '127.0.0.167'] as const;
const PORT = 8888;

// Each replica runs in a process group of its own (serve forks workers): SIGKILL to the group is a
// host crash, and cleanup reaches the workers too.
const children = new Set<ChildProcess>();
function killGroup(c: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (c.pid !== undefined) process.kill(-c.pid, signal);
  } catch {
    // the group is gone
  }
}
after(() => {
  for (const c of children) killGroup(c, 'SIGKILL');
});
/** Resolves once no process of the group is left (its workers die with it, or the test fails). */
async function groupGone(pgid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`processes of replica group ${pgid} are still running 10 s after SIGKILL`);
}
process.on('exit', () => {
  for (const c of children) killGroup(c, 'SIGKILL');
});

/** A replica: `etcd-tls serve` in a process group of its own (see killGroup), listening on ADDRESS:PORT. */
async function startReplica(address: string, args: readonly string[]): Promise<ServerHandle> {
  const replica = await startEtcdTlsServe([...args, '-address', address, '-port', String(PORT)], { url: `http://${address}:${PORT}`, ownGroup: true });
  children.add(replica.child);
  return replica;
}

interface Envelope {
  success: boolean;
  result: unknown;
  errors: { code: number; message: string }[];
}

/** POST with node:http, to know when the request is entirely on the socket (`sent`). */
function postJson(base: string, endpoint: string, body: unknown): { sent: Promise<void>; response: Promise<Envelope> } {
  let sent!: () => void;
  const sentP = new Promise<void>((resolve) => (sent = resolve));
  const response = new Promise<Envelope>((resolve, reject) => {
    const req = httpRequest(`${base}/api/v1/cfssl/${endpoint}`, { method: 'POST' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Envelope);
        } catch (e) {
          reject(e);
        }
      });
      res.on('error', reject);
    });
    req.on('error', (e) => {
      sent();
      reject(e);
    });
    req.on('finish', () => sent());
    req.end(JSON.stringify(body));
  });
  return { sent: sentP, response };
}

async function api(base: string, endpoint: string, body?: unknown): Promise<Envelope> {
  const res = await fetch(`${base}/api/v1/cfssl/${endpoint}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
  return (await res.json()) as Envelope;
}

let n = 0;
// RSA keys keep a replica busy for tens of milliseconds a request, so a SIGKILL lands on requests it is
// still working on (with P-256 only, its answers were already on the wire when it died).
function newcertRequest(algo: 'ecdsa' | 'rsa'): unknown {
  const name = `member${++n}`;
  return { request: { CN: name, hosts: [name, `10.0.${n >> 8}.${n & 255}`], key: algo === 'rsa' ? { algo, size: 2048 } : { algo, size: 256 } }, profile: 'peer' };
}

async function newcert(base: string, algo: 'ecdsa' | 'rsa' = 'ecdsa'): Promise<string> {
  const r = await api(base, 'newcert', newcertRequest(algo));
  assert.ok(r.success, JSON.stringify(r.errors));
  return (r.result as { certificate: string }).certificate;
}

const serialOf = (pem: string): string => BigInt(`0x${new X509Certificate(pem).serialNumber}`).toString(10);

interface Setup {
  pg: PostgresServer;
  url: string;
  args: string[];
  ledger: Ledger;
}

let setup: Setup | null = null;
// At the file's top level: an after() registered inside a test would close the ledger when that test ends.
after(() => setup?.ledger.close());
async function prepare(t: TestContext): Promise<Setup | null> {
  if (setup) return setup;
  const pg = await startPostgres(t, PG);
  if (!pg) return null;
  const url = await pg.createDatabase('replicas');
  const migrate = await etcdTls(['db', 'migrate', '--db', url]);
  assert.equal(migrate.code, 0, migrate.stderr);
  const dir = await makeTempDir('file', 'replicas-');
  await writeFile(path.join(dir, 'ca-csr.json'), JSON.stringify({ CN: 'replicas test CA', key: { algo: 'ecdsa', size: 256 } }));
  const profile = { usages: ['signing', 'key encipherment', 'server auth', 'client auth'], expiry: '8760h' };
  await writeFile(path.join(dir, 'config.json'), JSON.stringify({ signing: { default: { expiry: '8760h' }, profiles: { peer: profile } } }));
  const ca = await etcdTls(['gencert', '-initca', 'ca-csr.json'], { cwd: dir });
  assert.equal(ca.code, 0, ca.stderr);
  const bare = await etcdTls(['json', '-bare', 'ca'], { cwd: dir, stdin: ca.stdout });
  assert.equal(bare.code, 0, bare.stderr);
  const caPath = path.join(dir, 'ca.pem');
  const ledger = await openPostgresLedger(url);
  setup = { pg, url, args: ['-ca', caPath, '-ca-key', path.join(dir, 'ca-key.pem'), '-config', path.join(dir, 'config.json'), '--db', url, '--workers', '2'], ledger };
  return setup;
}

describe('two serve replicas on one PostgreSQL', { timeout: 300_000 }, () => {
  test('a revocation made through one replica is in the CRL the other serves', async (t) => {
    const s = await prepare(t);
    if (!s) return;
    const [a, b] = await Promise.all(REPLICA_ADDRESSES.map((addr) => startReplica(addr, s.args)));
    t.after(async () => {
      for (const r of [a, b]) r.child.kill('SIGTERM');
      await Promise.all([a.exited, b.exited]);
    });
    const fromB = await newcert(b.url);
    const serial = serialOf(fromB);
    const [rec] = await s.ledger.get(serial);
    assert.ok(rec, 'the certificate B issued is in the shared ledger');
    const revoke = await api(a.url, 'revoke', { serial, authority_key_id: rec.authorityKeyIdentifier, reason: 'keyCompromise' });
    assert.ok(revoke.success, JSON.stringify(revoke.errors));

    const crlOf = async (base: string): Promise<string[]> => {
      const r = await api(base, 'crl');
      assert.ok(r.success, JSON.stringify(r.errors));
      return parseCrl(Buffer.from(r.result as string, 'base64')).revoked.map((e) => BigInt(`0x${e.serialHex}`).toString(10));
    };
    assert.deepEqual(await crlOf(b.url), [serial], "B's CRL lists what was revoked through A");
    assert.deepEqual(await crlOf(a.url), [serial]);
    // And the other way round, with the second revocation of the same serial a no-op on either side.
    const fromA = await newcert(a.url);
    assert.ok((await api(b.url, 'revoke', { serial: serialOf(fromA), authority_key_id: rec.authorityKeyIdentifier, reason: 'superseded' })).success);
    assert.ok((await api(b.url, 'revoke', { serial, authority_key_id: rec.authorityKeyIdentifier, reason: 'superseded' })).success);
    assert.deepEqual((await crlOf(a.url)).sort(), [serial, serialOf(fromA)].sort());
    const [still] = await s.ledger.get(serial);
    assert.equal(still?.reason, 1, 'the first revocation (keyCompromise) stands');
  });

  test('under concurrent load, one replica SIGKILLed: every certificate a client received is recorded, no serial twice', async (t) => {
    const s = await prepare(t);
    if (!s) return;
    const [a, b] = await Promise.all(REPLICA_ADDRESSES.map((addr) => startReplica(addr, s.args)));
    t.after(async () => {
      a.child.kill('SIGTERM');
      await a.exited;
    });
    const received: { replica: 'a' | 'b'; pem: string }[] = [];
    const WORKERS = 16;
    const BEFORE_KILL = 60;
    const AFTER_KILL = 60;
    const FROM_B_BEFORE_KILL = 20;
    const CAUGHT_BY_KILL = 8;
    let bKilled = false;
    let receivedAfterKill = 0;
    let failedOnB = 0;
    let caughtFailed = 0;

    // The kill: B is sent requests it cannot have answered yet (RSA keys take it tens of milliseconds),
    // and is killed as soon as every one of them is on its socket.
    const killMidRequest = async (): Promise<void> => {
      const inFlight = Array.from({ length: CAUGHT_BY_KILL }, () => postJson(b.url, 'newcert', newcertRequest('rsa')));
      await Promise.all(inFlight.map((r) => r.sent));
      killGroup(b.child, 'SIGKILL');
      for (const r of await Promise.allSettled(inFlight.map((x) => x.response))) {
        if (r.status === 'fulfilled' && r.value.success) received.push({ replica: 'b', pem: (r.value.result as { certificate: string }).certificate });
        else caughtFailed++;
      }
    };
    let killing: Promise<void> | undefined;
    const worker = async (i: number): Promise<void> => {
      for (let k = 0; ; k++) {
        if (bKilled && receivedAfterKill >= AFTER_KILL) return;
        const useB = !bKilled && (i + k) % 2 === 1;
        try {
          const pem = await newcert(useB ? b.url : a.url);
          received.push({ replica: useB ? 'b' : 'a', pem });
          if (bKilled) receivedAfterKill++;
        } catch (e) {
          // Only B may fail, and only once it is being killed.
          if (!useB || !bKilled) throw e;
          failedOnB++;
        }
        if (!bKilled && received.length >= BEFORE_KILL && received.filter((r) => r.replica === 'b').length >= FROM_B_BEFORE_KILL) {
          bKilled = true;
          killing = killMidRequest();
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(i)));
    await killing;
    await b.exited;
    assert.equal(b.child.signalCode, 'SIGKILL');
    await groupGone(b.child.pid as number);
    assert.ok(caughtFailed > 0, `all ${CAUGHT_BY_KILL} requests B held when it was killed were answered: the kill was not mid-request`);

    const fromB = received.filter((r) => r.replica === 'b').length;
    assert.ok(fromB > 0 && received.length >= BEFORE_KILL + AFTER_KILL, `received ${received.length}, ${fromB} from B`);
    const serials = received.map((r) => serialOf(r.pem));
    assert.equal(new Set(serials).size, serials.length, 'no serial was issued twice');
    const missing: string[] = [];
    for (const r of received) {
      const rows = await s.ledger.get(serialOf(r.pem));
      if (rows.length !== 1 || rows[0]?.pem.trim() !== r.pem.trim()) missing.push(`${r.replica}:${serialOf(r.pem)}`);
    }
    assert.deepEqual(missing, [], 'every certificate a client received has its record');
    // The database holds no more than was asked for: the records of B's last answers that never arrived.
    const recorded = (await s.ledger.list()).length;
    assert.ok(recorded >= received.length, `${recorded} recorded, ${received.length} received`);
    t.diagnostic(`${received.length} received (${fromB} from B), ${caughtFailed + failedOnB} requests to B failed by the SIGKILL, ${recorded} recorded in all`);
  });
});
