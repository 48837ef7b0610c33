// Every generated file, generated from hostile but valid values, then used the way a user uses it:
// env files sourced by bash and sh, install.sh run with stub commands in a sandbox, YAML parsed,
// the systemd unit read by systemd.syntax rules, the flags file word-split by a shell. A canary file
// that any injected command would create must never appear, and every value must read back exactly.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseSpec } from '../../src/cluster/spec.js';
import { layoutCluster, type ClusterLayout } from '../../src/cluster/layout.js';
import { etcdEnvironment, renderConfigFiles } from '../../src/cluster/render.js';
import { etcdTls, run } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

const CANARY = 'CANARY';
/** Values that run `touch CANARY` if any file lets them through to a shell. */
const HOSTILE = [
  `$(touch ${CANARY})`,
  `\`touch ${CANARY}\``,
  `'; touch ${CANARY}; '`,
  `"; touch ${CANARY}; "`,
  `\\"; touch ${CANARY} #`,
  `x\\`,
  `% %n %% \${HOME} $HOME`,
  `a b;c|d&e>f<g`,
  'ü 日本 ☃',
];
const HOSTILE_TEXT = HOSTILE.join(' ');

const SHELLS = ['bash', 'sh'] as const;

/** The named variables after `set -a; . FILE` in `shell`, read back NUL-separated, with cwd = sandbox. */
async function sourceIn(shell: string, sandbox: string, file: string, names: readonly string[]): Promise<Record<string, string>> {
  const script = `set -a; . "$1" || exit 9; for n in ${names.join(' ')}; do eval "printf '%s\\0' \\"\\$$n\\""; done`;
  // --norc: a bash whose stdin is not a terminal may read ~/.bashrc, whose noise is not the file's.
  const r = await run(shell, [...(shell === 'bash' ? ['--norc', '--noprofile'] : []), '-c', script, shell, file], { cwd: sandbox, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  assert.equal(r.code, 0, `${shell} . ${file}: ${r.stderr}`);
  assert.equal(r.stderr, '', `${shell} . ${file} printed: ${r.stderr}`);
  const values = r.stdout.split('\0').slice(0, -1);
  return Object.fromEntries(names.map((n, i) => [n, values[i] as string]));
}

/** systemd.syntax: a value as systemd reads it (specifiers %% → %); continuation lines and control characters refused. */
function systemdValues(unit: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of unit.split('\n')) {
    assert.doesNotMatch(line, /[\x00-\x08\x0b-\x1f\x7f]/, `control character in unit line ${JSON.stringify(line)}`);
    if (line.startsWith('#') || line.startsWith(';') || line.startsWith('[') || line.trim() === '') continue;
    assert.ok(!line.endsWith('\\'), `a trailing backslash joins the next line: ${JSON.stringify(line)}`);
    const eq = line.indexOf('=');
    assert.ok(eq > 0, `not a key=value line: ${JSON.stringify(line)}`);
    const value = line.slice(eq + 1);
    // Every % must be a specifier systemd knows; %% is a literal %.
    assert.doesNotMatch(value.replace(/%%/g, ''), /%/, `unescaped specifier in ${JSON.stringify(line)}`);
    out.set(line.slice(0, eq), value.replace(/%%/g, '%'));
  }
  return out;
}

/** Stub commands for install.sh: each logs its argv (NUL-separated, one record per line) and succeeds. */
function stubBin(sandbox: string): { bin: string; log: string } {
  const bin = path.join(sandbox, 'stub-bin');
  const log = path.join(sandbox, 'calls.log');
  mkdirSync(bin);
  const logger = `#!/bin/sh\nname=$(basename "$0")\nprintf '%s' "$name" >> "${log}"\nfor a in "$@"; do printf '\\037%s' "$a" >> "${log}"; done\nprintf '\\n' >> "${log}"\n`;
  for (const name of ['install', 'useradd', 'adduser', 'addgroup', 'systemctl', 'update-ca-certificates', 'update-ca-trust']) {
    writeFileSync(path.join(bin, name), logger);
    chmodSync(path.join(bin, name), 0o755);
  }
  // id: root for -u, an existing etcd user otherwise.
  writeFileSync(path.join(bin, 'id'), '#!/bin/sh\ncase "$1" in -u) echo 0;; -gn) echo etcd;; *) exit 0;; esac\n');
  chmodSync(path.join(bin, 'id'), 0o755);
  return { bin, log };
}

const calls = (log: string): string[][] => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => l.split('\x1f')) : []);

/** Use every file of a layout (rendered in `dir`) and assert nothing ran and every value read back. */
async function useEveryFile(t: { name: string }, layout: ClusterLayout, sandbox: string): Promise<void> {
  const files = renderConfigFiles(layout);
  for (const f of files) {
    mkdirSync(path.dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.data, { mode: f.mode });
  }
  for (const m of layout.members) {
    const env = etcdEnvironment(layout, m);
    for (const shell of SHELLS) {
      const got = await sourceIn(shell, sandbox, m.files.env, env.map(([k]) => k));
      assert.deepEqual(got, Object.fromEntries(env), `${shell}: etcd.env values`);
    }
    const yaml = parseYaml(readFileSync(m.files.yaml, 'utf8')) as Record<string, unknown>;
    assert.equal(yaml.name, m.name);
    assert.equal(yaml['initial-cluster-token'], layout.cluster);
    assert.equal(yaml['initial-cluster'], m.initialCluster);
    assert.equal(yaml['data-dir'], m.installed.dataDir);
    assert.equal((yaml['client-transport-security'] as Record<string, unknown>)['cert-file'], m.installed.serverCert);

    const unit = systemdValues(readFileSync(m.files.service, 'utf8'));
    assert.equal(unit.get('EnvironmentFile'), m.installed.env);
    assert.equal(unit.get('Description'), `etcd member ${m.name} of cluster ${layout.cluster}`);

    for (const shell of SHELLS) {
      const syntax = await run(shell, ['-n', m.files.install]);
      assert.equal(syntax.code, 0, `${shell} -n install.sh: ${syntax.stderr}`);
    }
    if (!layout.local) {
      const stubs = path.join(sandbox, `stubs-${layout.members.indexOf(m)}`);
      mkdirSync(stubs, { recursive: true });
      const { bin, log } = stubBin(stubs);
      // Rendered without gen, the member folder has no PEM files: install.sh only needs them to exist.
      for (const f of ['ca.pem', 'crl.der', 'server.pem', 'server-key.pem', 'peer.pem', 'peer-key.pem'])
        if (!existsSync(path.join(m.dir, f))) writeFileSync(path.join(m.dir, f), '');
      const r = await run('sh', [m.files.install], { cwd: sandbox, env: { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` } });
      assert.equal(r.code, 0, `install.sh: ${r.stderr}`);
      const targets = calls(log).filter((c) => c[0] === 'install').map((c) => c[c.length - 1]);
      for (const p of [m.installed.ca, m.installed.crl, m.installed.serverCert, m.installed.serverKey, m.installed.peerCert, m.installed.peerKey, m.installed.env, m.installed.dataDir])
        assert.ok(targets.includes(p), `install.sh did not install ${JSON.stringify(p)} as one argument: ${JSON.stringify(targets)}`);
      // Opt-in only: without --trust-ca the system trust store is left alone.
      assert.ok(!calls(log).some((c) => c[0] === 'update-ca-certificates' || c[0] === 'update-ca-trust'), 'install.sh touched the system trust store without --trust-ca');
      assert.match(r.stdout, new RegExp(`installed etcd member`));
      assert.ok(r.stdout.includes(m.name) && r.stdout.includes(layout.cluster), r.stdout);
    }
  }
  for (const c of layout.clients) {
    const names = ['ETCDCTL_API', 'ETCDCTL_ENDPOINTS', 'ETCDCTL_CACERT', 'ETCDCTL_CERT', 'ETCDCTL_KEY'];
    for (const shell of SHELLS) {
      const got = await sourceIn(shell, sandbox, c.files.etcdctlEnv, names);
      assert.deepEqual(got, {
        ETCDCTL_API: '3',
        ETCDCTL_ENDPOINTS: layout.clientEndpoints.join(','),
        ETCDCTL_CACERT: c.installed.ca,
        ETCDCTL_CERT: c.installed.cert,
        ETCDCTL_KEY: c.installed.key,
      });
    }
    if (c.files.kubeApiserverFlags) {
      const r = await run('sh', ['-c', 'eval "set -- $(cat "$1")"; printf "%s\\0" "$@"', 'sh', c.files.kubeApiserverFlags], { cwd: sandbox });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.split('\0').slice(0, -1), [
        `--etcd-servers=${layout.clientEndpoints.join(',')}`,
        `--etcd-cafile=${c.installed.ca}`,
        `--etcd-certfile=${c.installed.cert}`,
        `--etcd-keyfile=${c.installed.key}`,
      ]);
    }
    if (c.files.kubeadmExternal) {
      const doc = parseYaml(readFileSync(c.files.kubeadmExternal, 'utf8')) as { etcd: { external: Record<string, unknown> } };
      assert.deepEqual(doc.etcd.external, { endpoints: layout.clientEndpoints, caFile: c.installed.ca, certFile: c.installed.cert, keyFile: c.installed.key });
    }
  }
  assert.ok(!existsSync(path.join(sandbox, CANARY)), `${t.name}: an injected command ran`);
}

const SPEC = (cn: string, o: string): string =>
  [
    'cluster: demo',
    `ca: { cn: ${JSON.stringify(cn)}, names: [{ O: ${JSON.stringify(o)}, OU: ${JSON.stringify(cn)} }] }`,
    'members:',
    '  - { name: m1, ips: [127.0.0.101], dns: [m1.example] }',
    '  - { name: m2, ips: ["::1"] }',
    'clients:',
    `  - { name: admin, cn: ${JSON.stringify(cn)}, o: [${JSON.stringify(o)}] }`,
    `  - { name: kube-apiserver, cn: ${JSON.stringify(o)} }`,
    '',
  ].join('\n');

describe('generated files are inert under hostile values', () => {
  for (const local of [false, true]) {
    test(`gen from hostile subject values into a hostile --out path${local ? ' (--local)' : ''}`, async (t) => {
      const sandbox = await makeTempDir(t, 'inject-');
      // The output directory's own name carries the payloads: with --local every config points into it.
      const out = path.join(sandbox, `o'u"t $(touch ${CANARY}) \`touch ${CANARY}\`;x % ü`);
      writeFileSync(path.join(sandbox, 'spec.yaml'), SPEC(HOSTILE.slice(0, 5).join(' '), HOSTILE.slice(5).join(' ')));
      const r = await etcdTls(['gen', 'spec.yaml', '--out', out, ...(local ? ['--local'] : [])], { cwd: sandbox });
      assert.equal(r.code, 0, r.stderr);
      const layout = layoutCluster(parseSpec(readFileSync(path.join(sandbox, 'spec.yaml'), 'utf8'), 'spec.yaml'), { dir: out, local });
      // What gen wrote is exactly what the renderers make of this layout.
      for (const f of renderConfigFiles(layout)) assert.equal(readFileSync(f.path, 'utf8'), f.data, f.path);
      await useEveryFile(t, layout, sandbox);
      // check lints what was generated without an injected finding or a crash.
      const check = await etcdTls(['check', out], { cwd: sandbox });
      assert.ok(check.code === 0 || check.code === 1, check.stderr);
      assert.ok(!existsSync(path.join(sandbox, CANARY)));
    });
  }

  test('the renderers quote values a spec could never carry (cluster, member names, URLs)', async (t) => {
    const sandbox = await makeTempDir(t, 'inject-');
    const layout = layoutCluster(parseSpec(SPEC('root', 'ops'), 'spec.yaml'), { dir: path.join(sandbox, 'pki') });
    // Each renderer must hold on its own: feed it what validation upstream would have refused.
    layout.cluster = HOSTILE_TEXT;
    layout.peerHostname = HOSTILE[0] as string;
    layout.initialCluster = HOSTILE.slice(1, 4).join(',');
    layout.clientEndpoints = HOSTILE.slice(4);
    const m = layout.members[0] as ClusterLayout['members'][number];
    m.name = HOSTILE[1] as string;
    // Each member renders its own bootstrap list (a joiner's differs from the founders').
    m.initialCluster = layout.initialCluster;
    m.installed.dataDir = `/var/lib/${HOSTILE[2] as string}`;
    m.installed.serverCert = `/etc/${HOSTILE[3] as string}/server.pem`;
    m.installed.env = `/etc/${HOSTILE[6] as string}/etcd.env`;
    for (const c of layout.clients) c.installed.ca = `/etc/${HOSTILE[4] as string}/${HOSTILE[5] as string}/ca.pem`;
    await useEveryFile(t, layout, sandbox);
  });

  test('a value with a control character is refused by the renderers, never written', async () => {
    const layout = layoutCluster(parseSpec(SPEC('root', 'ops'), 'spec.yaml'), { dir: '/srv/pki' });
    layout.cluster = 'a\nb';
    assert.throws(() => renderConfigFiles(layout), (e: Error & { code?: string }) => e.code === 'CONTROL_CHARACTER' && !/\n/.test(e.message));
  });
});
