// `etcd-tls gen` and `etcd-tls plan` through the CLI: a second run touches nothing, a spec edit reissues
// exactly the certificates it affects (and `plan` says so first, writing nothing), and bad input is one
// line on stderr, exit 1, with the output directory exactly as it was. No etcd is started here.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate, createPrivateKey } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, etcdTls, type RunResult } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');
const GEN_SPEC = readFileSync(path.join(FIXTURES, 'cluster', 'gen.yaml'), 'utf8');
/**
 * gen.yaml's non-certificate files in the bundles: 4 configs + a ca.pem and a crl.der copy per member,
 * etcdctl.env + ca.pem + crl.der per client, 2 kube files (DIR's own CRL and revocation record are the CA's).
 */
const CONFIG_FILES = 3 * 6 + 2 * 3 + 2;

/** Every file under `dir`: content hash, mode, mtime and inode (an atomic rewrite changes the inode). */
function snapshot(dir: string): Map<string, string> | null {
  if (!existsSync(dir)) return null;
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        walk(p);
        continue;
      }
      const st = statSync(p);
      const hash = createHash('sha256').update(readFileSync(p)).digest('hex');
      out.set(path.relative(dir, p), `${hash} ${st.mode.toString(8)} ${st.mtimeMs} ${st.ino}`);
    }
  };
  walk(dir);
  return out;
}

/** The files whose entry differs between two snapshots (added, removed or changed), sorted. */
function changedFiles(a: Map<string, string>, b: Map<string, string>): string[] {
  const names = new Set([...a.keys(), ...b.keys()]);
  return [...names].filter((n) => a.get(n) !== b.get(n)).sort();
}

/** Exactly one line `etcd-tls: <code>: <message>` on stderr, nothing on stdout, exit 1. */
function assertOneLineError(r: RunResult, code: string, about: RegExp): void {
  assert.equal(r.code, 1, `exit ${r.code}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`^etcd-tls: ${code}: [^\\n]+\\n$`), r.stderr);
  assert.match(r.stderr, about);
}

describe('gen is idempotent and reissues exactly what a spec edit affects', () => {
  let cwd = '';
  const spec = (): string => path.join(cwd, 'cluster.yaml');
  const out = (): string => path.join(cwd, 'pki');
  const cli = (args: string[]): Promise<RunResult> => etcdTls(args, { cwd });
  /** Edit the spec text, failing loudly when the fixture no longer has the line the test changes. */
  const editSpec = (from: string, to: string): void => {
    const text = readFileSync(spec(), 'utf8');
    assert.ok(text.includes(from), `gen.yaml no longer contains ${JSON.stringify(from)}`);
    writeFileSync(spec(), text.replace(from, to));
  };

  before(async () => {
    cwd = await makeTempDir('file', 'cluster-gen-');
    writeFileSync(spec(), GEN_SPEC);
  });

  test('plan on a fresh directory creates nothing; gen then writes the whole cluster', async () => {
    const plan = await cli(['plan', 'cluster.yaml', '--out', 'pki']);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /^CA pki\/ca\.pem: create/);
    assert.equal(existsSync(out()), false, 'plan created the output directory');

    const gen = await cli(['gen', 'cluster.yaml', '--out', 'pki']);
    assert.equal(gen.code, 0, gen.stderr);
    assert.match(gen.stdout, /^created CA pki\/ca\.pem\n/);
    assert.match(gen.stdout, /^8 certificate\(s\) issued, 0 kept;/m);
  });

  test('a second gen changes no byte, creates no key and touches no file', async () => {
    const before = snapshot(out()) as Map<string, string>;
    const r = await cli(['gen', 'cluster.yaml', '--out', 'pki']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `kept CA pki/ca.pem\n0 certificate(s) issued, 8 kept; 0 file(s) written, ${CONFIG_FILES} unchanged\n`);
    assert.deepEqual(snapshot(out()), before);
  });

  test('adding a DNS name to one member: plan shows the reissue and writes nothing; gen reissues only that member', async () => {
    editSpec('    ips: [127.0.0.58]\n', '    ips: [127.0.0.58]\n    dns: [member2.gen-e2e.test]\n');
    const before = snapshot(out()) as Map<string, string>;

    const plan = await cli(['plan', 'cluster.yaml', '--out', 'pki']);
    assert.equal(plan.code, 0, plan.stderr);
    const reissues = plan.stdout.split('\n').filter((l) => /^\s+reissue /.test(l)).map((l) => l.trim());
    assert.deepEqual(reissues, [
      'reissue pki/nodes/member2/server.pem (SANs changed (+member2.gen-e2e.test))',
      'reissue pki/nodes/member2/peer.pem (SANs changed (+member2.gen-e2e.test))',
    ]);
    assert.deepEqual(snapshot(out()), before, 'plan wrote something');

    const gen = await cli(['gen', 'cluster.yaml', '--out', 'pki']);
    assert.equal(gen.code, 0, gen.stderr);
    assert.equal(
      gen.stdout,
      [
        'kept CA pki/ca.pem',
        'reissued pki/nodes/member2/server.pem (SANs changed (+member2.gen-e2e.test))',
        'reissued pki/nodes/member2/peer.pem (SANs changed (+member2.gen-e2e.test))',
        `2 certificate(s) issued, 6 kept; 4 file(s) written, ${CONFIG_FILES} unchanged`,
        '',
      ].join('\n'),
    );
    assert.deepEqual(changedFiles(before, snapshot(out()) as Map<string, string>), [
      'nodes/member2/peer-key.pem',
      'nodes/member2/peer.pem',
      'nodes/member2/server-key.pem',
      'nodes/member2/server.pem',
    ]);
    // Read back by OpenSSL (through node): the new name is there, the new key fits, the CA signed it.
    const ca = new X509Certificate(readFileSync(path.join(out(), 'ca.pem')));
    for (const role of ['server', 'peer']) {
      const cert = new X509Certificate(readFileSync(path.join(out(), 'nodes', 'member2', `${role}.pem`)));
      assert.match(cert.subjectAltName ?? '', /DNS:member2\.gen-e2e\.test/);
      assert.ok(cert.checkPrivateKey(createPrivateKey(readFileSync(path.join(out(), 'nodes', 'member2', `${role}-key.pem`)))));
      assert.ok(cert.verify(ca.publicKey));
    }
  });

  test("changing a client's O: plan shows the reissue; gen reissues only that client", async () => {
    editSpec('    o: [ops]\n', '    o: [ops, backup]\n');
    const before = snapshot(out()) as Map<string, string>;

    const plan = await cli(['plan', 'cluster.yaml', '--out', 'pki']);
    assert.equal(plan.code, 0, plan.stderr);
    const reissues = plan.stdout.split('\n').filter((l) => /^\s+reissue /.test(l)).map((l) => l.trim());
    assert.deepEqual(reissues, ['reissue pki/clients/backup/client.pem (subject changed)']);
    assert.deepEqual(snapshot(out()), before, 'plan wrote something');

    const gen = await cli(['gen', 'cluster.yaml', '--out', 'pki']);
    assert.equal(gen.code, 0, gen.stderr);
    assert.match(gen.stdout, /^reissued pki\/clients\/backup\/client\.pem \(subject changed\)$/m);
    assert.match(gen.stdout, /^1 certificate\(s\) issued, 7 kept;/m);
    assert.deepEqual(changedFiles(before, snapshot(out()) as Map<string, string>), ['clients/backup/client-key.pem', 'clients/backup/client.pem']);
    const cert = new X509Certificate(readFileSync(path.join(out(), 'clients', 'backup', 'client.pem')));
    assert.deepEqual(cert.subject.split('\n').sort(), ['CN=etcd-backup', 'O=backup', 'O=ops']);
  });
});

describe('bad input: one line on stderr, exit 1, and the output directory exactly as it was', () => {
  let root = '';
  let existing = '';
  before(async () => {
    root = await makeTempDir('file', 'cluster-gen-bad-');
    writeFileSync(path.join(root, 'cluster.yaml'), GEN_SPEC);
    existing = path.join(root, 'existing');
    const r = await etcdTls(['gen', path.join(root, 'cluster.yaml'), '--out', existing]);
    assert.equal(r.code, 0, r.stderr);
  });

  // One representative per rule of spec.ts (its unit tests cover the rest). The spec is judged before
  // DIR is looked at, so a fresh DIR each, and the existing DIR for the first only (each CLI run costs
  // ~0.5 s of CPU for zod and yaml).
  const specCases: [file: string, code: string, about: RegExp][] = [
    ['bad-duplicate-member-name.yaml', 'DUPLICATE_MEMBER', /members\[2\]\.name: "member1" is already the name of members\[0\]/],
    ['bad-duplicate-member-ip.yaml', 'DUPLICATE_MEMBER', /"10\.0\.0\.1" is already the address of member "member1"/],
    ['bad-invalid-ip.yaml', 'BAD_SPEC', /members\[1\]\.ips\[0\]: "10\.0\.0\.300" is not an IPv4 or IPv6 address/],
    ['bad-invalid-dns.yaml', 'BAD_SPEC', /members\[0\]\.dns\[0\]: "etcd_1\.internal" is not a valid DNS name/],
    ['bad-port-collision-member.yaml', 'PORT_COLLISION', /members\[0\]\.peerPort: 2379 is also the clientPort/],
    ['bad-unknown-key.yaml', 'BAD_SPEC', /members\[0\]\.ip: unknown key/],
    ['bad-no-address.yaml', 'BAD_SPEC', /members\[1\]: member "member2" has no address/],
  ];
  for (const [i, [file, code, about]] of specCases.entries()) {
    test(`${file}: ${code}`, async () => {
      const specFile = path.join(FIXTURES, 'specs', file);
      const fresh = path.join(root, `fresh-${file}`);
      assertOneLineError(await etcdTls(['gen', specFile, '--out', fresh]), code, new RegExp(`${file}: .*${about.source}`));
      assert.equal(existsSync(fresh), false, `${fresh} was created`);
      if (i > 0) return;

      const before = snapshot(existing);
      assertOneLineError(await etcdTls(['gen', specFile, '--out', existing]), code, about);
      assert.deepEqual(snapshot(existing), before);
    });
  }

  test('a DIR whose ca.pem has no ca-key.pem: CA_KEY_MISSING', async (t) => {
    const dir = path.join(await makeTempDir(t, 'cluster-gen-nokey-'), 'pki');
    cpSync(existing, dir, { recursive: true });
    rmSync(path.join(dir, 'ca-key.pem'));
    const before = snapshot(dir);
    assertOneLineError(await etcdTls(['gen', path.join(root, 'cluster.yaml'), '--out', dir]), 'CA_KEY_MISSING', /ca\.pem: exists but .*ca-key\.pem does not/);
    assert.deepEqual(snapshot(dir), before);
  });

  test('a DIR holding a different CA: DIFFERENT_CA', async () => {
    const before = snapshot(existing);
    const r = await etcdTls(['gen', path.join(FIXTURES, 'cluster', 'other-ca.yaml'), '--out', existing]);
    assertOneLineError(r, 'DIFFERENT_CA', /holds the CA "CN=gen-e2e etcd CA", but the spec asks for "CN=some other etcd CA"/);
    assert.deepEqual(snapshot(existing), before);
  });

  test('a failure after keys were generated (a leaf outliving its CA) writes nothing: OUTLIVES_CA', async () => {
    const specFile = path.join(root, 'outlives.yaml');
    writeFileSync(specFile, GEN_SPEC.replace('    ips: [127.0.0.59]\n', '    ips: [127.0.0.59]\n    validity: 100y\n'));
    assert.notEqual(readFileSync(specFile, 'utf8'), GEN_SPEC);

    const fresh = path.join(root, 'fresh-outlives');
    assertOneLineError(await etcdTls(['gen', specFile, '--out', fresh]), 'OUTLIVES_CA', /after its CA/);
    assert.equal(existsSync(fresh), false, `${fresh} was created`);

    const before = snapshot(existing);
    assertOneLineError(await etcdTls(['gen', specFile, '--out', existing]), 'OUTLIVES_CA', /after its CA/);
    assert.deepEqual(snapshot(existing), before);
  });
});
