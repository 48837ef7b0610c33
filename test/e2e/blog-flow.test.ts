// The blog's flow (shared/blog/etcd-enable-https.md) run unchanged with cfssl → etcd-tls and
// cfssljson → etcd-tls json, as shell pipelines; then one real etcd 3.4 member secured with the files
// it produced, and the blog's checks (curl /health, etcdctl put/get) plus the ones the blog never ran:
// no client certificate, and a certificate from another CA, must both be refused.
// Addresses: 127.0.0.21 only (this file owns 127.0.0.21-29).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { CLI_PATH, cleanEnv, findBinary, requireBinary, run, type RunResult } from '../helpers/components.js';
import { etcdctl, startMember, waitHealthy, type MemberHandle } from '../helpers/etcd.js';
import { makeTempDir } from '../helpers/tmp.js';

const IP = '127.0.0.21';
const ENDPOINT = `https://${IP}:2379`;

// The blog's commands, with two substitutions: the tools (cfssl → etcd-tls, cfssljson → etcd-tls json)
// and the node's address (the blog's 10.93.81.17 is its own host; ours is 127.0.0.21).
const BLOG_SCRIPT = `set -e
etcd-tls print-defaults config > ca-config.json
etcd-tls print-defaults csr > ca-csr.json
cat << EOF > ca-config.json

{
    "signing": {
        "default": {
            "expiry": "43800h"
        },
        "profiles": {
            "server": {
                "expiry": "43800h",
                "usages": [
                    "signing",
                    "key encipherment",
                    "server auth"
                ]
            },
            "client": {
                "expiry": "43800h",
                "usages": [
                    "signing",
                    "key encipherment",
                    "client auth"
                ]
            },
            "peer": {
                "expiry": "43800h",
                "usages": [
                    "signing",
                    "key encipherment",
                    "server auth",
                    "client auth"
                ]
            }
        }
    }
}
EOF
cat << EOF > ca-csr.json

{
    "CN": "My own CA",
    "key": {
        "algo": "rsa",
        "size": 2048
    },
    "names": [
        {
            "C": "US",
            "L": "CA",
            "O": "My Company Name",
            "ST": "San Francisco",
            "OU": "Org Unit 1",
            "OU": "Org Unit 2"
        }
    ]
}
EOF
etcd-tls gencert -initca ca-csr.json | etcd-tls json -bare ca -
echo '{"CN":"coreos1","hosts":["${IP}","127.0.0.1"],"key":{"algo":"rsa","size":2048}}' | etcd-tls gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=server -hostname="${IP},127.0.0.1,server" - | etcd-tls json -bare server
echo '{"CN":"member1","hosts":["${IP}","127.0.0.1"],"key":{"algo":"rsa","size":2048}}' | etcd-tls gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=peer -hostname="${IP},127.0.0.1,server,member1" - | etcd-tls json -bare member1
echo '{"CN":"client","hosts":["${IP}","127.0.0.1"],"key":{"algo":"rsa","size":2048}}' | etcd-tls gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=client - | etcd-tls json -bare client
`;

// A second, unrelated CA and a client certificate from it: etcd must not accept it.
const OTHER_CA_SCRIPT = `set -e
echo '{"CN":"Another CA","key":{"algo":"ecdsa","size":256}}' | etcd-tls gencert -initca - | etcd-tls json -bare other-ca
echo '{"CN":"client","hosts":["${IP}"]}' | etcd-tls gencert -ca=other-ca.pem -ca-key=other-ca-key.pem - | etcd-tls json -bare other-client
`;

let dir = '';
let env: Record<string, string> = {};
let member: MemberHandle | undefined;
let scriptResult: RunResult | undefined;
const needed = ['etcd', 'etcdctl', 'curl', 'openssl'];

async function sh(script: string): Promise<RunResult> {
  return run('sh', ['-c', script], { cwd: dir, env });
}

async function curl(args: string[]): Promise<RunResult> {
  return run('curl', ['-sS', '--max-time', '10', '--cacert', 'ca.pem', ...args], { cwd: dir, env });
}

before(async () => {
  if (!needed.every((b) => findBinary(b))) return;
  dir = await makeTempDir('file', 'blog-flow-');
  // `etcd-tls` on PATH, the way a user who installed the package has it.
  const bin = path.join(dir, '.bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'etcd-tls'), `#!/bin/sh\nexec "${process.execPath}" "${CLI_PATH}" "$@"\n`);
  chmodSync(path.join(bin, 'etcd-tls'), 0o755);
  env = cleanEnv({ PATH: `${bin}${path.delimiter}${process.env.PATH ?? '/usr/bin:/bin'}` });
  scriptResult = await sh(BLOG_SCRIPT);
  if (scriptResult.code !== 0) return;
  assert.equal((await sh(OTHER_CA_SCRIPT)).code, 0);

  // The blog's etcd.conf, as ETCD_* variables. One deliberate change: the client-facing certificate is
  // the blog's peer certificate (member1.pem) instead of server.pem. The blog's "server" profile has no
  // "client auth", and etcd 3.4's gRPC gateway dials its own client listener presenting that
  // certificate, which client-cert-auth then rejects ("bad certificate"); member1.pem has both EKUs.
  member = await startMember({
    name: 'node1',
    ip: IP,
    clientPort: 2379,
    peerPort: 2380,
    dataDir: path.join(dir, 'node1.etcd'),
    env: {
      ETCD_NAME: 'node1',
      ETCD_LISTEN_PEER_URLS: `https://${IP}:2380`,
      ETCD_LISTEN_CLIENT_URLS: ENDPOINT,
      ETCD_INITIAL_ADVERTISE_PEER_URLS: `https://${IP}:2380`,
      ETCD_ADVERTISE_CLIENT_URLS: ENDPOINT,
      ETCD_INITIAL_CLUSTER: `node1=https://${IP}:2380`,
      ETCD_INITIAL_CLUSTER_STATE: 'new',
      ETCD_CERT_FILE: path.join(dir, 'member1.pem'),
      ETCD_KEY_FILE: path.join(dir, 'member1-key.pem'),
      ETCD_TRUSTED_CA_FILE: path.join(dir, 'ca.pem'),
      ETCD_CLIENT_CERT_AUTH: 'true',
      ETCD_PEER_CERT_FILE: path.join(dir, 'member1.pem'),
      ETCD_PEER_KEY_FILE: path.join(dir, 'member1-key.pem'),
      ETCD_PEER_TRUSTED_CA_FILE: path.join(dir, 'ca.pem'),
      ETCD_PEER_CLIENT_CERT_AUTH: 'true',
    },
  });
  await waitHealthy(ENDPOINT, { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'client.pem'), key: path.join(dir, 'client-key.pem') }, 60_000, [member]);
});

after(async () => {
  await member?.stop();
});

/** Skips on a laptop without the binaries, fails under CI; also fails when the blog's commands failed. */
function ready(t: Parameters<typeof requireBinary>[0]): boolean {
  if (!needed.every((b) => requireBinary(t, b))) return false;
  assert.equal(scriptResult?.code, 0, `the blog's commands failed:\n${scriptResult?.stderr}`);
  return true;
}

const clientCert = ['--cert', 'client.pem', '--key', 'client-key.pem'];
const asClient = () => ({ endpoints: ENDPOINT, cacert: path.join(dir, 'ca.pem'), cert: path.join(dir, 'client.pem'), key: path.join(dir, 'client-key.pem') });

describe("the blog's commands, unchanged, with etcd-tls", () => {
  test("produce the blog's files, key files 0600, and no chatter on stderr beyond the duplicate-OU warning", (t) => {
    if (!ready(t)) return;
    for (const name of ['ca', 'server', 'member1', 'client']) {
      assert.equal(statSync(path.join(dir, `${name}-key.pem`)).mode & 0o777, 0o600, `${name}-key.pem`);
      assert.equal(statSync(path.join(dir, `${name}.pem`)).mode & 0o777, 0o644, `${name}.pem`);
      assert.equal(statSync(path.join(dir, `${name}.csr`)).mode & 0o777, 0o644, `${name}.csr`);
    }
    // When a minute boundary passes between the CA and a leaf, the leaf (43800h, like the CA) is cut to
    // end with the CA, with a warning of its own; that one may or may not appear.
    const lines = (scriptResult?.stderr ?? '').split('\n').filter((l) => l !== '' && !l.includes("its expiry equals the CA's lifetime"));
    assert.deepEqual(lines, ['etcd-tls: warning: ca-csr.json: names[0]: duplicate key "OU"; keeping both values']);
  });

  test('the CA subject keeps both OUs (cfssl keeps only "Org Unit 2")', async (t) => {
    if (!ready(t)) return;
    const r = await run('openssl', ['x509', '-in', 'ca.pem', '-noout', '-subject', '-nameopt', 'RFC2253'], { cwd: dir });
    assert.equal(r.stdout, 'subject=CN=My own CA,OU=Org Unit 2,OU=Org Unit 1,O=My Company Name,L=CA,ST=San Francisco,C=US\n');
  });
});

describe('etcd 3.4 secured with those files', () => {
  test('curl /health with the client certificate succeeds', async (t) => {
    if (!ready(t)) return;
    const r = await curl([...clientCert, `${ENDPOINT}/health`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { health: string }).health, 'true');
  });

  test('etcdctl put/get with the client certificate succeeds; peers are on https', async (t) => {
    if (!ready(t)) return;
    const put = await etcdctl(['put', '/foo/bar', 'hello world'], asClient());
    assert.equal(put.code, 0, put.stderr);
    const get = await etcdctl(['get', '/foo/bar', '--print-value-only'], asClient());
    assert.equal(get.stdout, 'hello world\n');
    const members = await etcdctl(['member', 'list'], asClient());
    assert.match(members.stdout, new RegExp(`, started, node1, https://${IP.replace(/\./g, '\\.')}:2380, ${ENDPOINT}`), 'the blog\'s unresolved problem 2 (http peer URL) does not occur');
  });

  test("the gRPC gateway works too (the reason member1.pem serves the client port)", async (t) => {
    if (!ready(t)) return;
    const key = Buffer.from('/foo/bar').toString('base64');
    const r = await curl([...clientCert, '-X', 'POST', '-d', JSON.stringify({ key }), `${ENDPOINT}/v3/kv/range`]);
    assert.equal(r.code, 0, r.stderr);
    const kvs = (JSON.parse(r.stdout) as { kvs?: { value: string }[] }).kvs ?? [];
    assert.equal(Buffer.from(kvs[0]?.value ?? '', 'base64').toString(), 'hello world');
  });

  test('without a client certificate, curl and etcdctl are refused', async (t) => {
    if (!ready(t)) return;
    const r = await curl([`${ENDPOINT}/health`]);
    assert.notEqual(r.code, 0, `curl without a certificate got: ${r.stdout}`);
    const c = await etcdctl(['get', '/foo/bar', '--command-timeout=3s'], { endpoints: ENDPOINT, cacert: path.join(dir, 'ca.pem') });
    assert.notEqual(c.code, 0);
    assert.doesNotMatch(c.stdout, /hello world/);
  });

  test('with a certificate from another CA, curl and etcdctl are refused', async (t) => {
    if (!ready(t)) return;
    const other = ['--cert', 'other-client.pem', '--key', 'other-client-key.pem'];
    const r = await curl([...other, `${ENDPOINT}/health`]);
    assert.notEqual(r.code, 0, `curl with a foreign certificate got: ${r.stdout}`);
    const c = await etcdctl(['get', '/foo/bar', '--command-timeout=3s'], {
      endpoints: ENDPOINT,
      cacert: path.join(dir, 'ca.pem'),
      cert: path.join(dir, 'other-client.pem'),
      key: path.join(dir, 'other-client-key.pem'),
    });
    assert.notEqual(c.code, 0);
    assert.doesNotMatch(c.stdout, /hello world/);
    assert.ok(member?.running, 'etcd is still up');
    assert.match(readFileSync(path.join(dir, 'other-client.pem'), 'utf8'), /BEGIN CERTIFICATE/);
  });
});
