// bin/etcd-tls runs each command from its pre-bundled file (dist/bundle/<command>.cjs): the bundles
// must exist for every command and behave as the ESM modules they are built from.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import { Script } from 'node:vm';
import { COMMANDS } from '../../src/cli/main.js';
import { cleanEnv, etcdTls, REPO_ROOT, run } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

/** The build-time code cache bin/etcd-tls offers this Node's V8 (one file per V8 version that built it). */
const codeCacheOf = (bundle: string): string => `${bundle}.${process.versions.v8}.cache`;

/** Whether this V8 takes `cache` for `bundle` as bin/etcd-tls offers it; a rejected cache means a start compiles everything. */
/** A copy of the launcher and one bundle (print-defaults), so the real dist/ is never touched. */
async function launcherCopy(t: Parameters<typeof makeTempDir>[0]) {
  const root = await makeTempDir(t, 'launcher-');
  mkdirSync(path.join(root, 'bin'));
  mkdirSync(path.join(root, 'dist', 'bundle'), { recursive: true });
  for (const f of ['etcd-tls', 'package.json']) copyFileSync(path.join(REPO_ROOT, 'bin', f), path.join(root, 'bin', f));
  const bundle = path.join(root, 'dist', 'bundle', 'print-defaults.cjs');
  copyFileSync(path.join(REPO_ROOT, 'dist', 'bundle', 'print-defaults.cjs'), bundle);
  const expected = (await etcdTls(['print-defaults', 'csr'])).stdout;
  const runCopy = () => run(process.execPath, [path.join(root, 'bin', 'etcd-tls'), 'print-defaults', 'csr'], { env: cleanEnv() });
  return { bundle, expected, runCopy };
}

function cacheAccepted(bundle: string, cache: string): boolean {
  const script = new Script(Module.wrap(readFileSync(bundle, 'utf8')), { filename: bundle, cachedData: readFileSync(cache) });
  return !script.cachedDataRejected;
}

describe('bin/etcd-tls: pre-bundled commands', () => {
  for (const entry of COMMANDS) {
    test(`${entry.name}: its bundle prints the same --help as its module`, async () => {
      const bundle = path.join(REPO_ROOT, 'dist', 'bundle', `${entry.name}.cjs`);
      assert.ok(existsSync(bundle), `dist/bundle/${entry.name}.cjs is missing: run npm run build`);
      assert.ok(existsSync(codeCacheOf(bundle)), `no code cache for ${entry.name}: its training run in scripts/bundle.mjs failed`);
      assert.ok(cacheAccepted(bundle, codeCacheOf(bundle)), `V8 ${process.versions.v8} rejects the code cache the build trained for ${entry.name}`);
      const r = await etcdTls([entry.name, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, (await entry.load()).help());
    });
  }

  test('an error inside a bundled command is one line with its code, exit 1', async () => {
    const r = await etcdTls(['gencert', '-ca', 'no-such-ca.pem', '-ca-key', 'no-such-key.pem', '-']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^etcd-tls: [A-Z_]+: .*no-such/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });

  test('the ESM entry still answers what no bundle covers: --version, help, unknown commands', async () => {
    assert.match((await etcdTls(['--version'])).stdout, /^etcd-tls \d+\.\d+\.\d+\n$/);
    assert.match((await etcdTls(['help', 'gen'])).stdout, /^Usage: etcd-tls gen /);
    const unknown = await etcdTls(['gencertt']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^etcd-tls: UNKNOWN_COMMAND: 'gencertt' is not a command/);
  });

  test('a damaged or outdated code cache only costs time: the command still runs', async (t) => {
    const { bundle, expected, runCopy } = await launcherCopy(t);

    writeFileSync(codeCacheOf(bundle), Buffer.alloc(4096, 0xa5)); // newer than the bundle, and garbage
    let r = await runCopy();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, expected);

    copyFileSync(codeCacheOf(path.join(REPO_ROOT, 'dist', 'bundle', 'gencert.cjs')), codeCacheOf(bundle)); // another bundle's cache
    r = await runCopy();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, expected);

    utimesSync(codeCacheOf(bundle), new Date(0), new Date(0)); // older than its bundle: not even offered to V8
    r = await runCopy();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, expected);

    // Built by another Node (another V8): its cache is never offered; Node >= 22.1 compiles through its own cache.
    writeFileSync(`${bundle}.0.0.0-other-v8.cache`, Buffer.alloc(64, 0x5a));
    rmSync(codeCacheOf(bundle));
    r = await runCopy();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, expected);
  });

  test('under a V8 with no code cache, the first run writes one beside its bundle and the next start is given it', async (t) => {
    // What a user on another Node than the one that built the package gets (the bench's Node 24 rows).
    const { bundle, expected, runCopy } = await launcherCopy(t);
    writeFileSync(`${bundle}.0.0.0-other-v8.cache`, Buffer.alloc(64, 0x5a)); // what another Node's build left

    let r = await runCopy();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, expected);
    assert.ok(existsSync(codeCacheOf(bundle)), 'the first run wrote no code cache for this V8');
    assert.ok(cacheAccepted(bundle, codeCacheOf(bundle)), 'V8 rejects the code cache the first run wrote');
    assert.deepEqual(readdirSync(path.dirname(bundle)).filter((f) => f.endsWith('.tmp')), [], 'a temp file was left beside the bundle');

    r = await runCopy();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, expected);
  });

  test('re2js stays out of every bundle: only a name_whitelist loads it, not every start', () => {
    // ~290 kB that gencert and sign compiled at each start (bench/README.md, "Cold start"); hostile-input.test.ts
    // proves the whitelist still matches with RE2 semantics through the bundles.
    for (const f of readdirSync(path.join(REPO_ROOT, 'dist', 'bundle')).filter((n) => n.endsWith('.cjs'))) {
      const text = readFileSync(path.join(REPO_ROOT, 'dist', 'bundle', f), 'utf8');
      assert.ok(!text.includes('invalid nested repetition operator'), `dist/bundle/${f} carries re2js`);
    }
  });
});
