// Bundles every CLI command into one CommonJS file, dist/bundle/<command>.cjs, which bin/etcd-tls
// loads for that command. Why: Node 20 has no compile cache for ES modules, and resolving and
// compiling a command's 20-60 modules one by one cost more than an ECDSA gencert's own work
// (bench/README.md, "Cold start"). The ESM tree in dist/src stays the library and the entry for
// help and --version. Runs after tsc, from the package root: `node scripts/bundle.mjs`.
import { rmSync } from 'node:fs';
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

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: Object.fromEntries(COMMANDS.map((c) => [c.name, `command:${c.name}`])),
  outdir,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  plugins: [commandEntries],
  logLevel: 'warning',
  // import.meta has no CommonJS equivalent: a bundled module that uses it must fail the build, not run wrong.
  logOverride: { 'empty-import-meta': 'error' },
});
