// The package stands on its own: the tarball `npm pack` makes installs into an empty project, its bin
// runs the README's spec, its JSON Schema is reachable through the exports map, and a strict TypeScript
// consumer compiles against its types. (The tarball is packed from the dist/ that `npm test` just built.)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, run } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

const PKG = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const LOCK = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string }>;
};
/** The versions this repository is built with, so the consumer's install is served from npm's cache. */
const pinned = (name: string): string => `${name}@${LOCK.packages[`node_modules/${name}`]?.version ?? 'latest'}`;

/** The first fenced block of `lang` in the README: what a user copies. */
function readmeBlock(lang: string): string {
  const m = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8').match(new RegExp('```' + lang + '\\n([\\s\\S]*?)```'));
  assert.ok(m, `README.md has no \`\`\`${lang} block`);
  return m[1]!;
}

// What the TSDoc example of src/index.ts shows, compiled under `strict` by a project that only has the tarball.
const CONSUMER = `import { buildName, caProfile, emptySans, generateKeyPair, issueCertificate, spkiDer, toPem } from 'etcd-tls';
import { createRequire } from 'node:module';

const key = generateKeyPair({ algo: 'ecdsa', size: 256 });
const ca = issueCertificate(
  { subject: buildName({ CN: 'consumer CA' }), publicKey: spkiDer(key.publicKey), sans: emptySans() },
  caProfile(),
  { selfSigned: true, privateKey: key.privateKey },
);
const pem: string = toPem('CERTIFICATE', ca.der);
const schemaPath: string = createRequire(import.meta.url).resolve('etcd-tls/schema/spec.schema.json');
process.stdout.write(pem + schemaPath + '\\n');
`;

describe('the packed tarball, installed into an empty project', () => {
  test('installs, runs --version and the README spec, exports its schema, and types a strict consumer', { timeout: 300_000 }, async (t) => {
    const dir = await makeTempDir(t, 'pack-');
    const packed = await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: REPO_ROOT, timeoutMs: 120_000 });
    assert.equal(packed.code, 0, packed.stderr);
    const tarball = path.join(dir, packed.stdout.trim().split('\n').pop()!);
    assert.ok(existsSync(tarball), `npm pack wrote no ${tarball}`);

    const project = path.join(dir, 'consumer');
    await run('mkdir', [project]);
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    const install = await run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball, pinned('typescript'), pinned('@types/node')],
      { cwd: project, timeoutMs: 240_000 },
    );
    assert.equal(install.code, 0, install.stderr);

    const version = await run('npx', ['--no-install', 'etcd-tls', '--version'], { cwd: project });
    assert.equal(version.stdout, `etcd-tls ${PKG.version}\n`, version.stderr);

    writeFileSync(path.join(project, 'cluster.yaml'), readmeBlock('yaml'));
    const gen = await run('npx', ['--no-install', 'etcd-tls', 'gen', 'cluster.yaml', '--out', 'pki'], { cwd: project, timeoutMs: 120_000 });
    assert.equal(gen.code, 0, gen.stderr);
    for (const f of ['ca.pem', 'nodes/member1/server.pem', 'nodes/member3/peer-key.pem', 'clients/admin/client.pem']) {
      assert.ok(existsSync(path.join(project, 'pki', f)), `gen from the README's spec wrote no pki/${f}`);
    }

    // re2js is not in the bundles: a name_whitelist requires it from the installed node_modules on first use.
    writeFileSync(path.join(project, 'wl.json'), JSON.stringify({ signing: { default: { expiry: '8760h', usages: ['server auth'], name_whitelist: '\\.example$' } } }));
    writeFileSync(path.join(project, 'csr.json'), '{"CN":"a.example"}');
    const allowed = await run('npx', ['--no-install', 'etcd-tls', 'selfsign', '-config', 'wl.json', 'a.example', 'csr.json'], { cwd: project });
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /^\{"cert":"-----BEGIN CERTIFICATE-----/);
    const refused = await run('npx', ['--no-install', 'etcd-tls', 'selfsign', '-config', 'wl.json', 'a.other', 'csr.json'], { cwd: project });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /NAME_NOT_ALLOWED: .*"a\.other" does not match name_whitelist/);

    writeFileSync(path.join(project, 'consumer.ts'), CONSUMER);
    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', types: ['node'], noEmit: false } }),
    );
    const tsc = await run('npx', ['--no-install', 'tsc', '-p', '.'], { cwd: project, timeoutMs: 120_000 });
    assert.equal(tsc.code, 0, tsc.stdout + tsc.stderr);
    const consumer = await run(process.execPath, ['consumer.js'], { cwd: project });
    assert.equal(consumer.code, 0, consumer.stderr);
    assert.match(consumer.stdout, /^-----BEGIN CERTIFICATE-----\n/);
    assert.match(consumer.stdout, /node_modules\/etcd-tls\/schema\/spec\.schema\.json\n$/);
  });
});
