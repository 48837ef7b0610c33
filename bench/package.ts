/**
 * What installing etcd-tls costs on disk, beside what cfssl's Debian package installs: `npm pack` of
 * this checkout, the tarball installed into an empty project the way a user installs it (`npm install
 * --omit=dev`, install scripts allowed), then the tarball, the unpacked package, node_modules, the
 * largest installed packages with what each is for, what the command bundles inline, and for each
 * runtime dependency whether it is needed at run time or only inlined (then it could be a
 * devDependency). `node dist/bench/package.js` runs it alone.
 */
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { loadAverage, progress, renderSection, runCommand, type Cell, type Section } from './table.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Why each runtime dependency is there (package.json `dependencies` and `optionalDependencies`). */
const PURPOSE: Record<string, string> = {
  'better-sqlite3': 'SQLite ledger driver on Node < 22.13 (newer Node has node:sqlite); optional, a native addon',
  zod: "cluster spec validation and its published JSON Schema (zod/mini in the bundles)",
  yaml: 'cluster spec parsing with line/column positions (check, plan, gen)',
  re2js: "signing config name_whitelist with Go's RE2 semantics (linear time, as cfssl)",
  pg: 'PostgreSQL ledger adapter (serve --db postgres://, db migrate, ledger)',
  '@peculiar/asn1-csr': 'PKCS#10 CSR schema (the library reads CSRs with it)',
  '@peculiar/asn1-schema': 'ASN.1 schema runtime for the CSR reader',
  '@peculiar/asn1-x509': 'X.509 schema types for the CSR reader',
  'fastest-levenshtein': '"did you mean" for a mistyped command or key',
};

interface PackFile {
  path: string;
  size: number;
}
interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: PackFile[];
}

interface LsNode {
  version?: string;
  dependencies?: Record<string, LsNode>;
}

const MB = (bytes: number): string => `${(bytes / 1e6).toFixed(2)} MB`;
const kB = (bytes: number): string => (bytes >= 1e6 ? MB(bytes) : `${(bytes / 1e3).toFixed(1)} kB`);

/** Apparent size (sum of file sizes, a hard link once) and file count under `dir`, like `du -sb`. */
export function treeSize(dir: string, seen = new Set<string>()): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = treeSize(p, seen);
      bytes += sub.bytes;
      files += sub.files;
    } else if (entry.isFile()) {
      const st = lstatSync(p);
      const id = `${st.dev}:${st.ino}`;
      if (seen.has(id)) continue;
      seen.add(id);
      bytes += st.size;
      files += 1;
    }
  }
  return { bytes, files };
}

/** Disk usage in KiB as `du -sk` reports it (blocks, not bytes). */
function duKiB(dir: string): number {
  const r = spawnSync('du', ['-sk', dir], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.split('\t')[0]) : NaN;
}

/** Every installed package directory under a node_modules (scoped ones as `@scope/name`). */
function installedPackages(nodeModules: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(nodeModules)) {
    if (name.startsWith('.')) continue;
    if (name.startsWith('@')) for (const sub of readdirSync(path.join(nodeModules, name))) out.push(`${name}/${sub}`);
    else out.push(name);
  }
  return out;
}

/** The package a bundled module comes from, from esbuild's `// node_modules/<pkg>/...` marker. */
const packageOfPath = (p: string): string | undefined => /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(p)?.[1];

/** Bytes of each package's modules in one esbuild bundle (its `// <path>` module markers), own code as ''. */
export function bundleComposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const marker = /^\/\/ ((?:node_modules|dist|src)\/\S+\.[cm]?js)$/gm;
  let current: string | undefined;
  let start = 0;
  const close = (end: number): void => {
    if (current !== undefined) out.set(current, (out.get(current) ?? 0) + Buffer.byteLength(text.slice(start, end)));
  };
  for (let m = marker.exec(text); m; m = marker.exec(text)) {
    close(m.index);
    current = packageOfPath(m[1] as string) ?? '';
    start = m.index;
  }
  close(text.length);
  return out;
}

/** The npm packages an ESM entry of the installed package reaches, dynamic imports included. */
async function reachedPackages(entry: string, self: string): Promise<Set<string>> {
  const r = await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', write: false, metafile: true, logLevel: 'silent', external: ['pg-native'] });
  const out = new Set<string>();
  for (const input of Object.keys(r.metafile.inputs)) {
    const pkg = packageOfPath(path.resolve(input).replace(/\\/g, '/'));
    if (pkg && pkg !== self) out.add(pkg);
  }
  return out;
}

/** Who pulls each installed package in: the direct dependency of etcd-tls above it in `npm ls`. */
function directOwners(tree: LsNode, self: string): Map<string, string> {
  const owner = new Map<string, string>();
  const root = tree.dependencies?.[self];
  const walk = (node: LsNode, top: string): void => {
    for (const [name, child] of Object.entries(node.dependencies ?? {})) {
      if (!owner.has(name)) owner.set(name, top);
      walk(child, top);
    }
  };
  for (const [name, child] of Object.entries(root?.dependencies ?? {})) {
    owner.set(name, name);
    walk(child, name);
  }
  return owner;
}

/** golang-cfssl as dpkg has it installed: Installed-Size (KiB), the .deb's size, and the blog's two binaries. */
function cfsslPackage(): { installedKiB: number; version: string; debBytes: number; files: number; blogBinaries: number } | undefined {
  const q = spawnSync('dpkg-query', ['-W', '-f=${Version} ${Installed-Size}', 'golang-cfssl'], { encoding: 'utf8' });
  if (q.status !== 0) return undefined;
  const [version = '', kib = 'NaN'] = q.stdout.trim().split(' ');
  const list = spawnSync('dpkg', ['-L', 'golang-cfssl'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  let files = 0;
  let blogBinaries = 0;
  for (const f of list) {
    try {
      const st = lstatSync(f);
      if (!st.isFile()) continue;
      files += 1;
      if (f === '/usr/bin/cfssl' || f === '/usr/bin/cfssljson') blogBinaries += st.size;
    } catch {
      // listed but removed
    }
  }
  const show = spawnSync('apt-cache', ['show', 'golang-cfssl'], { encoding: 'utf8' });
  const debBytes = Number(/^Size: (\d+)$/m.exec(show.stdout ?? '')?.[1] ?? NaN);
  return { installedKiB: Number(kib), version, debBytes, files, blogBinaries };
}

/** The unpacked package by area: what each part of `files` costs. */
function packageAreas(files: PackFile[]): [area: string, bytes: number, count: number][] {
  const areas: [string, (p: string) => boolean][] = [
    ['dist/bundle/*.cjs (one pre-bundled file per command)', (p) => p.startsWith('dist/bundle/') && p.endsWith('.cjs')],
    ['dist/bundle/*.cache (V8 code caches of the Node that built it)', (p) => p.startsWith('dist/bundle/') && p.endsWith('.cache')],
    ['dist/src/**/*.js (the library and the ESM CLI entry)', (p) => p.startsWith('dist/src/') && p.endsWith('.js')],
    ['dist/src/**/*.d.ts (types of the library)', (p) => p.startsWith('dist/src/') && p.endsWith('.d.ts')],
    ['dist/src/**/*.map (source maps)', (p) => p.startsWith('dist/src/') && p.endsWith('.map')],
    ['dist/man (man page)', (p) => p.startsWith('dist/man/')],
    ['schema, bin, README, LICENSE, CHANGELOG, package.json', () => true],
  ];
  const out = areas.map(([name]): [string, number, number] => [name, 0, 0]);
  for (const f of files) {
    const i = areas.findIndex(([, test]) => test(f.path));
    const row = out[i] as [string, number, number];
    row[1] += f.size;
    row[2] += 1;
  }
  return out.filter(([, , n]) => n > 0);
}

export interface PackageBenchOptions {
  dir: string;
  /** Rows of the largest-packages table (the rest are summed in one row). */
  top?: number;
}

export async function runPackageBench(o: PackageBenchOptions): Promise<Section[]> {
  const pkgJson = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    name: string;
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
  };
  const self = pkgJson.name;
  const runtimeDeps = [...Object.keys(pkgJson.dependencies ?? {}), ...Object.keys(pkgJson.optionalDependencies ?? {})];

  progress('package: npm pack');
  const packOut = await runCommand('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', o.dir], { cwd: ROOT, timeoutMs: 300_000 });
  const pack = (JSON.parse(packOut) as PackResult[])[0] as PackResult;
  const tarball = path.join(o.dir, pack.filename);

  const project = path.join(o.dir, 'consumer');
  mkdirSync(project);
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  progress('package: npm install --omit=dev of the tarball into an empty project');
  const started = performance.now();
  await runCommand('npm', ['install', '--omit=dev', '--ignore-scripts=false', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball], {
    cwd: project,
    timeoutMs: 900_000,
  });
  const installSeconds = (performance.now() - started) / 1000;
  const nodeModules = path.join(project, 'node_modules');
  const installed = treeSize(nodeModules);
  const installedKiB = duKiB(nodeModules);
  const ls = JSON.parse(spawnSync('npm', ['ls', '--all', '--omit=dev', '--json'], { cwd: project, encoding: 'utf8', maxBuffer: 1 << 26 }).stdout || '{}') as LsNode;
  const owners = directOwners(ls, self);

  const packages = installedPackages(nodeModules).map((name) => {
    const size = treeSize(path.join(nodeModules, name));
    const version = (JSON.parse(readFileSync(path.join(nodeModules, name, 'package.json'), 'utf8')) as { version?: string }).version ?? '?';
    return { name, version, ...size };
  });
  packages.sort((a, b) => b.bytes - a.bytes);

  // What the command bundles inline, from the installed copy (what users run).
  const bundleDir = path.join(nodeModules, self, 'dist', 'bundle');
  const bundles = readdirSync(bundleDir).filter((f) => f.endsWith('.cjs'));
  const inlined = new Map<string, { bytes: number; bundles: number }>();
  let bundleBytes = 0;
  for (const b of bundles) {
    const text = readFileSync(path.join(bundleDir, b), 'utf8');
    bundleBytes += Buffer.byteLength(text);
    for (const [pkg, bytes] of bundleComposition(text)) {
      const cur = inlined.get(pkg) ?? { bytes: 0, bundles: 0 };
      inlined.set(pkg, { bytes: cur.bytes + bytes, bundles: cur.bundles + 1 });
    }
  }
  // Needed at run time, beside the bundles: the library (the exports map's "."), and the ESM CLI entry
  // that bin/etcd-tls uses for --help, `help COMMAND` and `completion` (which load every command module).
  const libraryReach = await reachedPackages(path.join(nodeModules, self, 'dist', 'src', 'index.js'), self);
  const cliReach = await reachedPackages(path.join(nodeModules, self, 'dist', 'src', 'cli', 'main.js'), self);
  const peer = cfsslPackage();

  const ownerOf = (name: string): string => owners.get(name) ?? '?';
  const roleOf = (name: string): string => {
    if (name === self) return 'the package itself';
    const direct = runtimeDeps.includes(name);
    const purpose = PURPOSE[name];
    if (direct) return purpose ?? 'direct dependency';
    const top = ownerOf(name);
    return `for ${top}${PURPOSE[top] ? ` (${PURPOSE[top]?.split(' (')[0]})` : ''}`;
  };
  const top = o.top ?? 12;
  const topRows: Cell[][] = packages.slice(0, top).map((p) => [p.name, p.version, kB(p.bytes), p.files, `${((p.bytes / installed.bytes) * 100).toFixed(1)}%`, roleOf(p.name)]);
  const rest = packages.slice(top);
  if (rest.length)
    topRows.push([`${rest.length} others`, '', kB(rest.reduce((a, p) => a + p.bytes, 0)), rest.reduce((a, p) => a + p.files, 0), `${((rest.reduce((a, p) => a + p.bytes, 0) / installed.bytes) * 100).toFixed(1)}%`, 'transitive dependencies']);

  const withoutOptional = installed.bytes - (packages.find((p) => p.name === 'better-sqlite3')?.bytes ?? 0) - packages.filter((p) => ownerOf(p.name) === 'better-sqlite3' && p.name !== 'better-sqlite3').reduce((a, p) => a + p.bytes, 0);
  const peerBytes = peer ? peer.installedKiB * 1024 : NaN;
  const met = installed.bytes <= peerBytes;
  const targetLine = Number.isFinite(peerBytes)
    ? `Target: installed size with dependencies (npm install --omit=dev) ≤ golang-cfssl's installed size: ${MB(installed.bytes)} vs ${MB(peerBytes)} (${(installed.bytes / peerBytes).toFixed(2)}×) — ${met ? 'met' : 'MISSED'}; without the optional better-sqlite3 and what only it pulls in (Node ≥ 22.13 uses node:sqlite): ${MB(withoutOptional)} (${(withoutOptional / peerBytes).toFixed(2)}×) — ${withoutOptional <= peerBytes ? 'met' : 'MISSED'}.`
    : 'Target: installed size ≤ golang-cfssl\'s: not measured (golang-cfssl is not installed).';

  const sizes: Section = {
    title: 'Package size: etcd-tls installed from its tarball vs golang-cfssl (bench/package.ts)',
    intro: [
      `\`npm pack\` of this checkout, then \`npm install --omit=dev --ignore-scripts=false\` of the tarball into an empty project (${installSeconds.toFixed(0)} s, npm ${spawnSync('npm', ['--version'], { encoding: 'utf8' }).stdout.trim()}). Sizes are apparent bytes (file sizes, a hard link once, like \`du -sb\`); MB = 10^6 bytes. The peer is Debian's golang-cfssl as dpkg has it installed (Installed-Size, KiB).`,
    ],
    head: ['what', 'etcd-tls', 'files', 'golang-cfssl', 'files'],
    rows: [
      ['download (npm tarball / .deb)', MB(pack.size), pack.entryCount, peer ? MB(peer.debBytes) : '—', ''],
      ['the package alone, unpacked', MB(pack.unpackedSize), pack.entryCount, peer ? MB(peer.installedKiB * 1024) : '—', peer?.files ?? ''],
      ['installed with dependencies (node_modules)', MB(installed.bytes), installed.files, peer ? `${MB(peer.installedKiB * 1024)} + libsqlite3-0` : '—', ''],
      ['the same as disk usage (`du -sk`)', MB(installedKiB * 1024), '', '', ''],
      ['what the blog runs (cfssl + cfssljson binaries)', '', '', peer ? MB(peer.blogBinaries) : '—', peer ? 2 : ''],
    ],
    notes: [targetLine],
  };

  const areas: Section = {
    title: 'What the unpacked etcd-tls package is made of',
    intro: [],
    head: ['part', 'size', 'files', 'share'],
    rows: packageAreas(pack.files).map(([area, bytes, count]) => [area, kB(bytes), count, `${((bytes / pack.unpackedSize) * 100).toFixed(1)}%`]),
    notes: [`${bundles.length} command bundles, ${kB(bundleBytes)} in all; each holds the code its command reaches, so shared code (the pki core, the CLI runner) is in many of them.`],
  };

  const largest: Section = {
    title: `The ${Math.min(top, packages.length)} largest installed packages`,
    intro: [`${packages.length} packages in node_modules after \`npm install --omit=dev\`.`],
    head: ['package', 'version', 'size', 'files', 'share', 'what it is for'],
    rows: topRows,
    notes: [],
  };

  const depRows: Cell[][] = runtimeDeps.map((name) => {
    const pkgSize = packages.find((p) => p.name === name)?.bytes ?? 0;
    const pulled = packages.filter((p) => p.name !== name && ownerOf(p.name) === name).reduce((a, p) => a + p.bytes, 0);
    const inl = inlined.get(name);
    // Transitive packages of this dependency that the bundles inline count for it too.
    const inlTransitive = [...inlined].filter(([p]) => p !== name && p !== '' && ownerOf(p) === name).reduce((a, [, v]) => a + v.bytes, 0);
    const needs = [libraryReach.has(name) ? 'the library (index.js)' : '', cliReach.has(name) ? 'the ESM CLI (--help, help, completion)' : ''].filter(Boolean);
    const verdict = needs.length ? `needed: ${needs.join(', ')}` : inl ? 'only inlined: could be a devDependency' : 'loaded at run time only (not bundled)';
    return [name, kB(pkgSize + pulled), inl ? `${kB(inl.bytes + inlTransitive)} in ${inl.bundles} of ${bundles.length}` : '—', verdict];
  });
  const own = inlined.get('');
  const inlinedSection: Section = {
    title: 'Runtime dependencies: installed, inlined in the bundles, needed at run time?',
    intro: [
      'Installed: the package and what only it pulls in. Inlined: bytes of it (and of its own dependencies) summed over the command bundles that contain it. Needed: reached from an entry that runs outside the bundles (esbuild metafile of the installed `dist/src/index.js` and `dist/src/cli/main.js`, dynamic imports included).',
    ],
    head: ['dependency', 'installed', 'inlined in bundles', 'at run time'],
    rows: depRows,
    notes: [
      `etcd-tls's own code is ${own ? kB(own.bytes) : '—'} of the ${kB(bundleBytes)} of bundles; the rest is inlined dependencies.`,
      depRows.some((r) => String(r[3]).startsWith('only inlined'))
        ? 'A dependency marked "only inlined" is not reached outside the bundles: it could move to devDependencies (check test/e2e/package.test.ts after moving it).'
        : 'Every runtime dependency is reached outside the bundles (by the library or by the ESM CLI entry), so none can move to devDependencies as things stand.',
    ],
  };

  return [sizes, areas, largest, inlinedSection];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = mkdtempSync(path.join(tmpdir(), 'etcd-tls-bench-package-'));
  const before = loadAverage();
  try {
    const sections = await runPackageBench({ dir });
    const after = loadAverage();
    for (const s of sections) process.stdout.write(renderSection({ ...s, notes: [...s.notes, `Load average before / after: ${before} / ${after}.`] }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
