// Bundles every CLI command into one CommonJS file, dist/bundle/<command>.cjs, which bin/etcd-tls
// loads for that command. Why: Node 20 has no compile cache for ES modules, and resolving and
// compiling a command's 20-60 modules one by one cost more than an ECDSA gencert's own work
// (bench/README.md, "Cold start"). The ESM tree in dist/src stays the library and the entry for
// help and --version. Runs after tsc, from the package root: `node scripts/bundle.mjs`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cliDir = path.join(root, 'dist', 'src', 'cli');
const outdir = path.join(root, 'dist', 'bundle');
const { COMMANDS } = await import(pathToFileURL(path.join(cliDir, 'main.js')).href);

// One virtual entry per command: the command module and the shared runner, nothing else.
const entryOf = (name) =>
  `import * as command from ${JSON.stringify(path.join(cliDir, 'commands', `${name}.js`))};\n` +
  `import { runBundled } from ${JSON.stringify(path.join(cliDir, 'run.js'))};\n` +
  `export const main = runBundled(command);\n`;

const commandEntries = {
  name: 'command-entries',
  setup(b) {
    b.onResolve({ filter: /^command:/ }, (args) => ({ path: args.path.slice('command:'.length), namespace: 'command' }));
    b.onLoad({ filter: /.*/, namespace: 'command' }, (args) => ({ contents: entryOf(args.path), resolveDir: cliDir, loader: 'js' }));
  },
};

// Dependencies a start should not pay for unless it uses them stay out of the bundles and are
// required from node_modules on first use; the module that loads each one is swapped for its
// CommonJS form (the ESM one reaches require through import.meta, which a bundle lacks).
const LAZY = {
  // re2js (~290 kB, ~10 ms CPU of every gencert start): only a profile with a name_whitelist needs it.
  // If this path stops matching, the import.meta of the ESM form fails the build (logOverride below).
  [path.join(root, 'dist', 'src', 'cfssl', 're2.js')]: "let engine;\nexport function loadRe2() {\n  return (engine ??= require('re2js').RE2JS);\n}\n",
};
const lazyDependencies = {
  name: 'lazy-dependencies',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, (args) => (args.path in LAZY ? { contents: LAZY[args.path], loader: 'js' } : undefined));
  },
};

// `import * as fs from 'node:fs'` becomes `__toESM(require("node:fs"))` in a CommonJS bundle: a fresh
// object with a getter per export (fs has ~100), 0.1-0.3 ms per import at every start and a getter call
// per use. A builtin's exports are its own properties and a namespace import never reads `.default`,
// so in our modules it becomes the plain require (the ES module tree in dist/src keeps the import).
const BUILTIN_NAMESPACE = /^import \* as ([A-Za-z_$][\w$]*) from '(node:[a-z_/]+)';$/gm;
const builtinNamespaces = {
  name: 'builtin-namespaces',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      if (!args.path.startsWith(path.join(root, 'dist', 'src') + path.sep) || args.path in LAZY) return undefined;
      const text = await readFile(args.path, 'utf8');
      const contents = text.replace(BUILTIN_NAMESPACE, "const $1 = require('$2');");
      return contents === text ? undefined : { contents, loader: 'js' };
    });
  },
};

// The `yaml` package (~260 kB, a third of the gen bundle) stays in the bundles but runs only when
// something calls it: a plain spec is read by src/cluster/syntax/yaml-subset.ts and gen's own etcd.yaml
// by the flat reader, so most starts never need it, and its top level cost ~10 ms of every plan and gen
// (bench/README.md, "gen vs the durable floor"). Every `import ... from 'yaml'` outside node_modules
// gets this stand-in: a getter per export that loads the real package on first use.
// Named exports only: Node >= 23 also lists a CommonJS package's whole `module.exports` under that very name.
const { default: _yamlDefault, ...yamlNamespace } = await import('yaml');
const yamlExports = Object.fromEntries(Object.entries(yamlNamespace).filter(([name]) => /^[A-Za-z_$][\w$]*$/.test(name)));
const LAZY_YAML =
  "let yaml;\nconst load = () => (yaml ??= require('yaml'));\n" +
  `module.exports = {\n${Object.keys(yamlExports).map((name) => `  get ${name}() { return load().${name}; },\n`).join('')}  get default() { return load().default; },\n};\n`;
const lazyYaml = {
  name: 'lazy-yaml',
  setup(b) {
    b.onResolve({ filter: /^yaml$/ }, (args) =>
      args.namespace === 'lazy-yaml' || args.importer.includes(`${path.sep}node_modules${path.sep}`) ? undefined : { path: 'yaml', namespace: 'lazy-yaml' },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-yaml' }, () => ({ contents: LAZY_YAML, resolveDir: root, loader: 'js' }));
  },
};

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: Object.fromEntries(COMMANDS.map((c) => [c.name, `command:${c.name}`])),
  outdir,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  plugins: [commandEntries, lazyDependencies, builtinNamespaces, lazyYaml],
  logLevel: 'warning',
  // import.meta has no CommonJS equivalent: a bundled module that uses it must fail the build, not run wrong.
  logOverride: { 'empty-import-meta': 'error' },
  // pg's optional native binding (pg-native), required only when NODE_PG_FORCE_NATIVE is set; we never use it.
  // pg (~190 kB with its helpers) is loaded only for a postgres:// ledger (src/ledger/open.ts); bundled, every
  // gen, serve and ledger start read its bytes. From node_modules it costs only the starts that use it.
  external: ['pg-native', 're2js', 'pg'],
});

// Training runs: each command runs once the way users run it, and bin/etcd-tls saves V8's code cache
// of its bundle on exit (dist/bundle/<command>.cjs.<V8 version>.cache): the bytecode of everything the run
// compiled, which later starts load instead of compiling (gencert ~15-30 ms, plan of 100 members
// ~70 ms; bench/README.md).
// A command without a scenario here is trained on its --help (its bundle's top level).
const bin = path.join(root, 'bin', 'etcd-tls');
const work = mkdtempSync(path.join(tmpdir(), 'etcd-tls-train-'));
const LEAF_CSR = '{"CN":"member1","hosts":["member1","127.0.0.1"],"key":{"algo":"ecdsa","size":256}}';
const CONFIG = '{"signing":{"default":{"expiry":"8760h"},"profiles":{"peer":{"usages":["signing","key encipherment","server auth","client auth"],"expiry":"8760h"}}}}';
const SCENARIOS = [
  ['print-defaults', ['csr']],
  ['init', ['--members', 'member1=127.0.0.1', '--out', 'spec.yaml']],
  ['plan', ['spec.yaml', '--out', 'pki']],
  ['gen', ['spec.yaml', '--out', 'pki']],
  ['check', ['pki']],
  ['gencert', ['-initca', 'ca-csr.json'], { out: 'ca.json' }],
  ['json', ['-bare', '-f', 'ca.json', 'ca']],
  ['gencert', ['-ca', 'ca.pem', '-ca-key', 'ca-key.pem', '-config', 'config.json', '-profile', 'peer', 'leaf-csr.json']],
  ['genkey', ['leaf-csr.json'], { out: 'leaf.json' }],
  ['certinfo', ['-cert', 'ca.pem']],
];
function train(name, args, { out } = {}) {
  const r = spawnSync(process.execPath, [bin, name, ...args], { cwd: work, env: { ...process.env, ETCD_TLS_WRITE_CODE_CACHE: '1' }, encoding: 'utf8' });
  if (out) writeFileSync(path.join(work, out), r.stdout);
  // A failed training run only costs start-up time; the tests judge the command itself.
  if (r.status !== 0) console.warn(`bundle: training run of ${name} failed (no code cache for it): ${r.stderr.trim().split('\n')[0]}`);
}
try {
  writeFileSync(path.join(work, 'ca-csr.json'), '{"CN":"training CA","key":{"algo":"ecdsa","size":256}}');
  writeFileSync(path.join(work, 'leaf-csr.json'), LEAF_CSR);
  writeFileSync(path.join(work, 'config.json'), CONFIG);
  for (const [name, args, opts] of SCENARIOS) train(name, args, opts);
  const trained = new Set(SCENARIOS.map(([name]) => name));
  for (const { name } of COMMANDS.filter((c) => !trained.has(c.name))) train(name, ['--help']);
} finally {
  rmSync(work, { recursive: true, force: true });
}
