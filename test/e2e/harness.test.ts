// Proves the test harness against the real thing. Certificates come from the openssl CLI, not from
// our own code, so a bug in the PKI cannot hide a bug in the harness. Addresses: 127.0.0.41-49 only.
import { describe, test, type TestContext } from 'node:test';
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { CLI_PATH, REPO_ROOT, etcdTls, requireBinary, run } from '../helpers/components.js';
import { etcdctl, parseEnvFile, startCluster, startMember, stopAll, waitHealthy } from '../helpers/etcd.js';
import { makeTempDir } from '../helpers/tmp.js';

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const r = await run('openssl', args, { cwd: dir });
  assert.equal(r.code, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A throwaway CA, a server cert (serverAuth+clientAuth, IP SAN) and a client cert, as files in dir. */
async function makePki(dir: string, ip: string): Promise<void> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await openssl(dir, ['req', '-x509', ...ec, '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=harness-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const leaves = [
    { name: 'server', ext: `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\n` },
    { name: 'client', ext: 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n' },
  ];
  for (const [i, leaf] of leaves.entries()) {
    await writeFile(path.join(dir, `${leaf.name}.ext`), leaf.ext);
    await openssl(dir, ['req', ...ec, '-keyout', `${leaf.name}-key.pem`, '-out', `${leaf.name}.csr`, '-subj', `/CN=harness-${leaf.name}`]);
    await openssl(dir, ['x509', '-req', '-in', `${leaf.name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-set_serial', String(1000 + i),
      '-days', '1', '-extfile', `${leaf.name}.ext`, '-out', `${leaf.name}.pem`]);
  }
}

/** Set process.env entries for the duration of fn, then restore them. */
async function withParentEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('parseEnvFile', () => {
  test('reads quoted and bare values, skips comments and blank lines', () => {
    const text = [
      '# etcd.env for member1',
      '',
      'ETCD_NAME="member1"',
      "ETCD_DATA_DIR='/var/lib/etcd/default'",
      'ETCD_CLIENT_CERT_AUTH=true # mTLS',
      'export ETCD_INITIAL_CLUSTER="a=https://127.0.0.1:2380,b=https://127.0.0.2:2380"  # two',
      'ETCD_QUOTED="say \\"hi\\""',
    ].join('\n');
    assert.deepEqual(parseEnvFile(text), {
      ETCD_NAME: 'member1',
      ETCD_DATA_DIR: '/var/lib/etcd/default',
      ETCD_CLIENT_CERT_AUTH: 'true',
      ETCD_INITIAL_CLUSTER: 'a=https://127.0.0.1:2380,b=https://127.0.0.2:2380',
      ETCD_QUOTED: 'say "hi"',
    });
  });

  test('rejects a line that is not KEY=value, naming it', () => {
    assert.throws(() => parseEnvFile('ETCD_NAME=a\nnot a variable\n'), /not a variable/);
  });
});

describe('components', () => {
  test('run reports a non-zero exit instead of throwing, and feeds stdin', async () => {
    const r = await run(process.execPath, ['-e', 'process.stdin.pipe(process.stdout); process.exitCode = 3'], { stdin: 'ping' });
    assert.deepEqual([r.code, r.stdout, r.timedOut], [3, 'ping', false]);
  });

  test('run kills a child that outlives its timeout', async () => {
    const r = await run(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { timeoutMs: 300 });
    assert.equal(r.timedOut, true);
    assert.equal(r.signal, 'SIGKILL');
  });

  test('requireBinary skips on a laptop and fails in CI, naming the Debian package', async (t) => {
    const skipped: string[] = [];
    const fake = { skip: (msg: string) => skipped.push(msg) } as unknown as TestContext;
    const emptyDir = await makeTempDir(t, 'nopath-');
    const saved = { PATH: process.env.PATH, CI: process.env.CI };
    try {
      process.env.PATH = emptyDir;
      delete process.env.CI;
      assert.equal(requireBinary(fake, 'etcd'), false);
      assert.match(skipped[0] ?? '', /etcd-server/);
      process.env.CI = 'true';
      assert.throws(() => requireBinary(fake, 'cfssljson'), /golang-cfssl/);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    assert.equal(requireBinary(fake, 'node'), true);
  });

  test('etcdTls runs the launcher in bin/', async () => {
    assert.equal(CLI_PATH, path.join(REPO_ROOT, 'bin', 'etcd-tls'));
    const version = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const r = await etcdTls(['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(version.replaceAll('.', '\\.')));
  });
});

describe('etcd members', () => {
  test('one mTLS member from an env file: healthy, usable with a client cert, refused without, stopped', async (t) => {
    if (!['etcd', 'etcdctl', 'openssl', 'curl'].every((b) => requireBinary(t, b))) return;
    const dir = await makeTempDir(t, 'harness-');
    await makePki(dir, '127.0.0.41');
    const f = (name: string): string => path.join(dir, name);
    const envText = [
      '# as a generated etcd.env would say it; the data dir is replaced by the harness',
      'ETCD_NAME="h1"',
      'ETCD_DATA_DIR="/var/lib/etcd/default"',
      'ETCD_LISTEN_CLIENT_URLS="https://127.0.0.41:2379"',
      'ETCD_ADVERTISE_CLIENT_URLS="https://127.0.0.41:2379"',
      'ETCD_LISTEN_PEER_URLS="https://127.0.0.41:2380"',
      'ETCD_INITIAL_ADVERTISE_PEER_URLS="https://127.0.0.41:2380"',
      'ETCD_INITIAL_CLUSTER="h1=https://127.0.0.41:2380"',
      'ETCD_INITIAL_CLUSTER_STATE="new"',
      `ETCD_CERT_FILE="${f('server.pem')}"`,
      `ETCD_KEY_FILE="${f('server-key.pem')}"`,
      `ETCD_TRUSTED_CA_FILE="${f('ca.pem')}"`,
      'ETCD_CLIENT_CERT_AUTH=true',
      `ETCD_PEER_CERT_FILE="${f('server.pem')}"`,
      `ETCD_PEER_KEY_FILE="${f('server-key.pem')}"`,
      `ETCD_PEER_TRUSTED_CA_FILE="${f('ca.pem')}"`,
      'ETCD_PEER_CLIENT_CERT_AUTH=true',
    ].join('\n');
    await writeFile(f('etcd.env'), envText);
    const dataDir = f('data');
    const endpoint = 'https://127.0.0.41:2379';
    const client = { cacert: f('ca.pem'), cert: f('client.pem'), key: f('client-key.pem') };

    // A developer's leftover variables must not reach etcd or etcdctl: each would make them fail.
    const m = await withParentEnv({ ETCD_CONFIG_FILE: f('missing.yaml'), ETCDCTL_ENDPOINTS: 'http://127.0.0.49:1' }, async () => {
      const [member] = await startCluster(
        [{ name: 'h1', ip: '127.0.0.41', clientPort: 2379, peerPort: 2380, dataDir, env: parseEnvFile(readFileSync(f('etcd.env'), 'utf8')) }],
        { tls: { ca: client.cacert, cert: readFileSync(client.cert, 'utf8'), key: client.key }, timeoutMs: 30_000 },
      );
      assert.ok(member);
      const put = await etcdctl(['put', 'harness', 'works'], { endpoints: endpoint, ...client });
      assert.equal(put.code, 0, put.stderr);
      const get = await etcdctl(['get', 'harness', '--print-value-only'], { endpoints: endpoint, ...client });
      assert.equal(get.stdout.trim(), 'works', get.stderr);
      return member;
    });
    try {
      assert.ok(existsSync(path.join(dataDir, 'member')), 'etcd used the harness data dir');
      assert.match(m.logs(), /ready to serve client requests/);

      const withCert = await run('curl', ['-sS', '--max-time', '5', '--cacert', client.cacert, '--cert', client.cert, '--key', client.key, `${endpoint}/health`]);
      assert.match(withCert.stdout, /"health":"true"/, withCert.stderr);
      const withoutCert = await run('curl', ['-sS', '--max-time', '5', '--cacert', client.cacert, `${endpoint}/health`]);
      assert.notEqual(withoutCert.code, 0, 'curl without a client certificate must be refused');
    } finally {
      await m.stop();
    }
    assert.equal(m.running, false);
    assert.ok(isGone(m.pid), `pid ${m.pid} still exists after stop()`);
  });

  test('stopAll stops a default plain-http member this process started', async (t) => {
    if (!requireBinary(t, 'etcd')) return;
    const dir = await makeTempDir(t, 'harness-');
    const m = await startMember({ name: 'h2', ip: '127.0.0.42', clientPort: 2379, peerPort: 2380, dataDir: path.join(dir, 'data') });
    try {
      await waitHealthy('http://127.0.0.42:2379', undefined, 30_000, [m]);
    } finally {
      await stopAll();
    }
    assert.equal(m.running, false);
    assert.ok(isGone(m.pid), `pid ${m.pid} still exists after stopAll()`);
  });

  test('waitHealthy fails fast when the member exits, showing its last log lines', async (t) => {
    if (!requireBinary(t, 'etcd')) return;
    const dir = await makeTempDir(t, 'harness-');
    const m = await startMember({ name: 'h3', ip: '127.0.0.43', clientPort: 2379, peerPort: 2380, dataDir: path.join(dir, 'data'), args: [`--config-file=${path.join(dir, 'missing.yaml')}`] });
    await assert.rejects(waitHealthy('http://127.0.0.43:2379', undefined, 30_000, [m]), (e: Error) => {
      assert.match(e.message, /member h3 exited/);
      assert.match(e.message, /missing\.yaml: no such file or directory/);
      return true;
    });
    assert.ok(isGone(m.pid));
  });
});
