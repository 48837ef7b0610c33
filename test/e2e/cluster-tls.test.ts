// Issue #3, "how it must be shown": a real etcd 3.4 cluster of three started from the etcd.env files
// `etcd-tls gen --local` writes (not through `up`), then every TLS promise checked against it: mTLS on
// both ports, https-only URLs, refusal of certificate-less and foreign-CA clients, client certificates
// kept off the peer port, warning-free etcd.env files, and working kube-apiserver flags.
// Addresses: 127.0.0.51-53 only.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, cleanEnv, etcdTls, findBinary, requireBinary, run, type RunResult } from '../helpers/components.js';
import { etcdctl, parseEnvFile, startCluster, type MemberHandle, type MemberSpec, etcdProcessesUnder } from '../helpers/etcd.js';
import { makeTempDir } from '../helpers/tmp.js';

const SPEC = path.join(REPO_ROOT, 'test', 'fixtures', 'cluster', 'tls.yaml');
const MEMBERS = ['member1', 'member2', 'member3'] as const;

/** The member as its etcd.env describes it: addresses come from the generated file, not from the test. */
function memberFromEnv(dir: string, name: string): MemberSpec {
  const env = parseEnvFile(readFileSync(path.join(dir, 'nodes', name, 'etcd.env'), 'utf8'));
  const client = new URL(env.ETCD_ADVERTISE_CLIENT_URLS as string);
  const peer = new URL(env.ETCD_INITIAL_ADVERTISE_PEER_URLS as string);
  return {
    name,
    ip: client.hostname,
    clientPort: Number(client.port),
    peerPort: Number(peer.port),
    dataDir: env.ETCD_DATA_DIR as string,
    env,
    logLines: 5_000,
  };
}

/** Client files of one generated client (or of a member's peer certificate). */
interface Creds {
  cacert: string;
  cert?: string;
  key?: string;
}
const clientCreds = (dir: string, client: string): Required<Creds> => ({
  cacert: path.join(dir, 'clients', client, 'ca.pem'),
  cert: path.join(dir, 'clients', client, 'client.pem'),
  key: path.join(dir, 'clients', client, 'client-key.pem'),
});

/** curl (an independent TLS client) against an etcd URL; HTTP/1.1 because the peer port speaks nothing else. */
function curl(url: string, creds: Creds): Promise<RunResult> {
  const args = ['-sS', '--http1.1', '--max-time', '5', '--cacert', creds.cacert];
  if (creds.cert) args.push('--cert', creds.cert);
  if (creds.key) args.push('--key', creds.key);
  return run('curl', [...args, url], { env: cleanEnv() });
}

const BINARIES = ['etcd', 'etcdctl', 'curl'] as const;
const haveAll = BINARIES.every((b) => findBinary(b) !== null);
/** Skips (fails in CI) unless every binary is there: the cluster is only started when all are. */
const needsAll = (t: TestContext): boolean => BINARIES.every((b) => requireBinary(t, b));

describe('a cluster started from the generated etcd.env files', () => {
  let dir = '';
  let otherDir = '';
  let members: MemberHandle[] = [];
  const url = (i: number, port: 'client' | 'peer'): string => {
    const s = (members[i] as MemberHandle).spec;
    return `https://${s.ip}:${port === 'client' ? s.clientPort : s.peerPort}`;
  };

  before(async () => {
    dir = await makeTempDir('file', 'cluster-tls-');
    otherDir = await makeTempDir('file', 'cluster-tls-other-');
    for (const out of [dir, otherDir]) {
      const r = await etcdTls(['gen', SPEC, '--out', out, '--local']);
      assert.equal(r.code, 0, r.stderr);
    }
    if (!haveAll) return;
    const admin = clientCreds(dir, 'admin');
    members = await startCluster(
      MEMBERS.map((m) => memberFromEnv(dir, m)),
      { tls: { ca: admin.cacert, cert: admin.cert, key: admin.key } },
    );
  });
  // One at a time: a leader stopped together with its followers waits seconds for a leadership transfer.
  const stopMembers = async (): Promise<void> => {
    for (const m of members) await m.stop();
  };
  after(stopMembers);

  test('every etcd.env is taken in full by etcd 3.4, with no warning about its variables or TLS settings', (t) => {
    if (!needsAll(t)) return;
    for (const m of members) {
      const logs = m.logs();
      for (const bad of [/unrecognized environment variable/i, /shadowed/i, /conflicting/i, /ignoring/i]) {
        const line = logs.split('\n').find((l) => bad.test(l));
        assert.equal(line, undefined, `${m.name} logged: ${line}`);
      }
      // Positive proof that etcd read the file: each variable is reported as recognized and used.
      for (const key of Object.keys(m.spec.env ?? {})) {
        assert.match(logs, new RegExp(`recognized and used environment variable ${key}=`), `${m.name}: ${key} not used`);
      }
    }
  });

  test('a key written through member1 is read through member3, with the client files and with etcdctl.env', async (t) => {
    if (!needsAll(t)) return;
    const admin = clientCreds(dir, 'admin');
    const put = await etcdctl(['put', '/cluster-tls/greeting', 'hello over mTLS'], { endpoints: url(0, 'client'), ...admin });
    assert.equal(put.code, 0, put.stderr);
    assert.equal(put.stdout.trim(), 'OK');

    const get = await etcdctl(['get', '/cluster-tls/greeting', '--print-value-only'], { endpoints: url(2, 'client'), ...admin });
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout.trim(), 'hello over mTLS');

    // etcdctl.env alone is enough (no flags: etcdctl exits when a setting comes both ways).
    const fileEnv = parseEnvFile(readFileSync(path.join(dir, 'clients', 'admin', 'etcdctl.env'), 'utf8'));
    assert.equal(fileEnv.ETCDCTL_ENDPOINTS, [0, 1, 2].map((i) => url(i, 'client')).join(','));
    for (const endpoints of [fileEnv.ETCDCTL_ENDPOINTS as string, url(2, 'client')]) {
      const r = await run('etcdctl', ['get', '/cluster-tls/greeting', '--print-value-only'], {
        env: cleanEnv({ ...fileEnv, ETCDCTL_ENDPOINTS: endpoints }),
        timeoutMs: 30_000,
      });
      assert.equal(r.code, 0, `ETCDCTL_ENDPOINTS=${endpoints}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), 'hello over mTLS');
    }
  });

  test('member list shows the three members with https peer and client URLs only', async (t) => {
    if (!needsAll(t)) return;
    const r = await etcdctl(['member', 'list', '-w', 'json'], { endpoints: url(1, 'client'), ...clientCreds(dir, 'admin') });
    assert.equal(r.code, 0, r.stderr);
    const list = (JSON.parse(r.stdout) as { members: { name: string; peerURLs: string[]; clientURLs: string[] }[] }).members;
    const byName = Object.fromEntries(list.map((m) => [m.name, { peer: m.peerURLs, client: m.clientURLs }]));
    assert.deepEqual(byName, {
      member1: { peer: ['https://127.0.0.51:2380'], client: ['https://127.0.0.51:2379'] },
      member2: { peer: ['https://127.0.0.52:2380'], client: ['https://127.0.0.52:2379'] },
      member3: { peer: ['https://127.0.0.53:22380'], client: ['https://127.0.0.53:22379'] },
    });
  });

  test('a client without a certificate is refused; the same request with the admin certificate is answered', async (t) => {
    if (!needsAll(t)) return;
    const admin = clientCreds(dir, 'admin');
    const ok = await curl(`${url(0, 'client')}/health`, admin);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /"health":"true"/);

    const refused = await curl(`${url(0, 'client')}/health`, { cacert: admin.cacert });
    assert.notEqual(refused.code, 0, `answered without a client certificate: ${refused.stdout}`);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /alert|certificate/i);
  });

  test('a client certificate from another CA (even one with the same subject) is refused', async (t) => {
    if (!needsAll(t)) return;
    const foreign = clientCreds(otherDir, 'admin');
    assert.notEqual(readFileSync(foreign.cacert, 'utf8'), readFileSync(clientCreds(dir, 'admin').cacert, 'utf8'));
    for (const i of [0, 2]) {
      const r = await curl(`${url(i, 'client')}/health`, { ...foreign, cacert: clientCreds(dir, 'admin').cacert });
      assert.notEqual(r.code, 0, `${url(i, 'client')} answered a foreign client: ${r.stdout}`);
      assert.equal(r.stdout, '');
    }
  });

  test('a client certificate of this CA cannot use the peer port; a peer certificate can', async (t) => {
    if (!needsAll(t)) return;
    const peerUrl = `${url(0, 'peer')}/members`;
    const peer = path.join(dir, 'nodes', 'member2');
    const ok = await curl(peerUrl, { cacert: path.join(peer, 'ca.pem'), cert: path.join(peer, 'peer.pem'), key: path.join(peer, 'peer-key.pem') });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as unknown[]).length, 3);

    for (const client of ['admin', 'kube-apiserver']) {
      const r = await curl(peerUrl, clientCreds(dir, client));
      assert.notEqual(r.code, 0, `the peer port answered client ${client}: ${r.stdout}`);
      assert.equal(r.stdout, '');
    }
  });

  test('kube-apiserver.flags names existing files that reach etcd', async (t) => {
    if (!needsAll(t)) return;
    const text = readFileSync(path.join(dir, 'clients', 'kube-apiserver', 'kube-apiserver.flags'), 'utf8');
    const flags = Object.fromEntries(
      text.trim().split(/\s+/).map((f) => {
        const m = /^--([a-z-]+)=(.+)$/.exec(f);
        assert.ok(m, `not a --flag=value: ${f}`);
        return [m[1] as string, m[2] as string];
      }),
    );
    assert.deepEqual(Object.keys(flags).sort(), ['etcd-cafile', 'etcd-certfile', 'etcd-keyfile', 'etcd-servers']);
    for (const f of ['etcd-cafile', 'etcd-certfile', 'etcd-keyfile']) {
      assert.ok(existsSync(flags[f] as string), `--${f}=${flags[f]} does not exist`);
      assert.ok((flags[f] as string).startsWith(dir + path.sep), `--${f} points outside ${dir} despite --local`);
    }
    const servers = (flags['etcd-servers'] as string).split(',');
    assert.deepEqual(servers, [0, 1, 2].map((i) => url(i, 'client')));
    const r = await curl(`${servers[0]}/health`, {
      cacert: flags['etcd-cafile'] as string,
      cert: flags['etcd-certfile'] as string,
      key: flags['etcd-keyfile'] as string,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"health":"true"/);
  });

  test('stopping the members by PID leaves no etcd process of this cluster', async (t) => {
    if (!needsAll(t)) return;
    assert.equal(etcdProcessesUnder(dir).length, 3);
    await stopMembers();
    for (const m of members) {
      assert.equal(m.running, false);
      assert.throws(() => process.kill(m.pid, 0), { code: 'ESRCH' }, `${m.name} (pid ${m.pid}) still exists`);
    }
    assert.deepEqual(etcdProcessesUnder(dir), []);
  });
});
