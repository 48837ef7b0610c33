/**
 * `etcd-tls gen` of an N-member spec against the blog's recipe: one `cfssl gencert | cfssljson` per
 * certificate (a CA first, then a server and a peer certificate per member and two clients), issuing
 * the same certificates with the same key algorithm. Both are whole commands timed by hyperfine in one
 * invocation per round. For RSA, gen's key generation rate is compared with single-core
 * generateKeyPairSync measured between the rounds of the same run.
 */
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { BIN, BLOG_CA_CONFIG, NODE, caCsrJson, otherNodes, versionOf } from './cli.js';
import { hyperfine, median, ms, perSecond, progress, ratio, runCommand, type Cell, type Section } from './table.js';

export type Algo = 'ecdsa' | 'rsa';

export interface GenCase {
  members: number;
  algo: Algo;
  rounds: number;
  /** hyperfine runs per round (more for the fast small cases). */
  runs: number;
  /** Run the cfssl loop for this many members only and extrapolate linearly to `members`. */
  cfsslSample?: number;
  /** Run both tools on tmpfs instead of the default temp dir. */
  tmpfs?: boolean;
}

const CLUSTER = 'bench';
const PEER_HOSTNAME = `peer.${CLUSTER}.etcd.internal`;
const CLIENTS = [
  { name: 'kube-apiserver', cn: 'kube-apiserver-etcd-client' },
  { name: 'admin', cn: 'root' },
];
const keyJson = (algo: Algo): string => (algo === 'rsa' ? '{"algo":"rsa","size":2048}' : '{"algo":"ecdsa","size":256}');
const keyYaml = (algo: Algo): string => (algo === 'rsa' ? '{algo: rsa, size: 2048}' : '{algo: ecdsa, size: 256}');
const memberName = (i: number): string => `member${i + 1}`;
const memberIp = (i: number): string => `10.${(i + 1) >> 16}.${((i + 1) >> 8) & 255}.${(i + 1) & 255}`;

/** CA + a server and a peer certificate per member + the clients. */
export const certificateCount = (members: number): number => 1 + 2 * members + CLIENTS.length;

function specYaml(c: GenCase): string {
  return [
    `cluster: ${CLUSTER}`,
    `ca: {cn: ${CLUSTER} etcd CA, key: ${keyYaml(c.algo)}}`,
    `defaults: {key: ${keyYaml(c.algo)}}`,
    'members:',
    ...Array.from({ length: c.members }, (_, i) => `  - {name: ${memberName(i)}, ips: [${memberIp(i)}]}`),
    'clients:',
    ...CLIENTS.map((cl) => `  - {name: ${cl.name}, cn: ${cl.cn}}`),
    '',
  ].join('\n');
}

/** The blog's steps 4-6 repeated per certificate, with the SANs etcd-tls gives the same certificate. */
function cfsslLoop(algo: Algo, members: number): string {
  const one = (cn: string, profile: string, hosts: string[], out: string): string => {
    const req = `{"CN":"${cn}","hosts":${JSON.stringify(hosts)},"key":${keyJson(algo)}}`;
    const flag = hosts.length ? ` -hostname="${hosts.join(',')}"` : '';
    return `echo '${req}' | cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=../ca-config.json -profile=${profile}${flag} - | cfssljson -bare ${out}`;
  };
  const lines = ['#!/bin/bash', 'set -euo pipefail', 'mkdir out-cfssl && cd out-cfssl', 'cfssl gencert -initca ../ca-csr.json | cfssljson -bare ca'];
  for (let i = 0; i < members; i++) {
    const name = memberName(i);
    const ips = [memberIp(i), '127.0.0.1', '::1'];
    lines.push(one(name, 'server', [name, 'localhost', ...ips], `${name}-server`));
    lines.push(one(name, 'peer', [name, PEER_HOSTNAME, 'localhost', ...ips], `${name}-peer`));
  }
  for (const cl of CLIENTS) lines.push(one(cl.cn, 'client', [], `${cl.name}-client`));
  return `${lines.join('\n')}\n`;
}

/**
 * The least any Node tool that writes gen's output durably must do, in one hand-written file: start
 * node, make a P-256 key and an ECDSA signature per certificate (the ECDH keygen gen uses), create
 * gen's files (same paths, sizes and modes, from `files.txt`) in a staged tree, flush it with one
 * syncfs, rename it into place and flush the parent. No spec, no DER, no PEM, no configuration text.
 */
const DURABLE_FLOOR_SCRIPT = `const c = require('node:crypto'), fs = require('node:fs'), path = require('node:path'), cp = require('node:child_process');
const [certificates, out] = [Number(process.argv[2]), process.argv[3]];
const files = fs.readFileSync('files.txt', 'utf8').trim().split('\\n').map((l) => l.split(' '));
const ca = c.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, ecdh = c.createECDH('prime256v1'), tbs = Buffer.alloc(450, 1);
for (let i = 0; i < certificates; i++) { ecdh.generateKeys(); ecdh.getPrivateKey(); c.sign('sha256', tbs, ca); }
const stage = out + '.stage', dirs = new Set(), text = Buffer.alloc(1 << 16, 65);
for (const [mode, size, rel] of files) {
  const dir = path.dirname(path.join(stage, rel));
  if (!dirs.has(dir)) fs.mkdirSync(dir, { recursive: true }), dirs.add(dir);
  const fd = fs.openSync(path.join(stage, rel), 'wx', parseInt(mode, 8));
  fs.writeSync(fd, text, 0, Number(size));
  fs.closeSync(fd);
}
cp.spawnSync('sync', ['--file-system', stage]);
fs.renameSync(stage, out);
fs.fsyncSync(fs.openSync('.', 'r'));
`;

/** `mode size path` of every file under `dir`: what the durable floor recreates. */
function fileManifest(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const file = path.join(e.parentPath, e.name);
      const st = statSync(file);
      return `${(st.mode & 0o777).toString(8)} ${st.size} ${path.relative(dir, file)}`;
    })
    .join('\n');
}

/** Single-core RSA-2048 generation, on this thread. */
function rsaSyncRun(keys: number): { keys: number; ms: number } {
  const start = performance.now();
  for (let i = 0; i < keys; i++) generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { keys, ms: performance.now() - start };
}

interface CaseResult {
  c: GenCase;
  genMs: number[];
  cfsslMs: number[];
  /** `etcd-tls plan` of the same spec: start-up, spec parsing and planning, nothing generated or written. */
  planMs: number[];
  /** The floor no Node tool goes below: `node -e 0`, and `cp -r` creating gen's files (ECDSA cases). */
  nodeMs: number[];
  copyMs: number[];
  /** The durable floor: DURABLE_FLOOR_SCRIPT (ECDSA cases). */
  durableMs: number[];
  /** gen again over its own unchanged output (ECDSA cases): reads, plans, keeps everything. */
  rerunMs: number[];
  /** Files gen and the cfssl loop leave behind (counted after the last run). */
  files?: { gen: number; cfssl: number };
  /** Total keys and time of the single-core runs around this case's rounds (RSA only). */
  sync?: { keys: number; ms: number };
  /** Set when the case could not be measured (a command failed or hung). */
  error?: string;
  /** gen and the durable floor under the other Nodes (otherNodes(): Node 24 by default), 100-member ECDSA on disk only. */
  others?: { version: string; genMs: number[]; durableMs: number[] }[];
}

/** The case whose gen / durable floor ratio has a target (issue #10): 100 members, ECDSA, on disk. */
const isFloorTargetCase = (c: GenCase): boolean => c.members === 100 && c.algo === 'ecdsa' && !c.tmpfs;
const FLOOR_TARGET = 1.3;

export interface GenOptions {
  /** Working directory on the default temp file system. */
  dir: string;
  /** A directory on tmpfs for the cases with `tmpfs` set; those are skipped without it. */
  tmpfsDir?: string;
  cases: GenCase[];
  /** Keys per single-core RSA measurement (one before the rounds and one after each). */
  rsaSyncKeys: number;
}

function countFiles(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
}

const caseName = (c: GenCase): string => `${c.members} members ${c.algo}${c.tmpfs ? ' (tmpfs)' : ''}`;

/**
 * A --prepare that moves the previous run's output aside instead of deleting it. On an ext4 without a
 * journal (this VM's), every file created scans past the inodes deleted in the last minutes of its
 * block group (`recently_deleted`): after an `rm -rf` of the last run's ~900 files, creating a file
 * cost ~1 ms instead of ~30 µs, for both tools, and measured the deletions rather than the tools.
 */
const moveAside = (dir: string): string => `bash -c 'test ! -e ${dir} || mv ${dir} "old/${dir}-$(date +%s%N)"'`;

/**
 * moveAside, then flush the file system: gen and the durable floor each end with one syncfs of the
 * whole file system, which would also write out whatever an earlier command of the round left
 * unflushed (the cfssl loop's ~600 files, `cp -r`'s 1,000). Each of them starts from a clean one and
 * flushes only its own files.
 */
const moveAsideAndFlush = (dir: string): string => `bash -c 'test ! -e ${dir} || mv ${dir} "old/${dir}-$(date +%s%N)"; sync'`;

async function runCase(c: GenCase, root: string, rsaSyncKeys: number): Promise<CaseResult> {
  const dir = path.join(root, `gen-${c.algo}-${c.members}${c.tmpfs ? '-tmpfs' : ''}`);
  mkdirSync(path.join(dir, 'old'), { recursive: true });
  writeFileSync(path.join(dir, 'spec.yaml'), specYaml(c));
  writeFileSync(path.join(dir, 'ca-config.json'), BLOG_CA_CONFIG);
  writeFileSync(path.join(dir, 'ca-csr.json'), caCsrJson(c.algo, `${CLUSTER} etcd CA`));
  writeFileSync(path.join(dir, 'loop.sh'), cfsslLoop(c.algo, c.cfsslSample ?? c.members));

  const result: CaseResult = { c, genMs: [], cfsslMs: [], planMs: [], nodeMs: [], copyMs: [], durableMs: [], rerunMs: [] };
  const sync = { keys: 0, ms: 0 };
  const measureSync = (): void => {
    const r = rsaSyncRun(rsaSyncKeys);
    sync.keys += r.keys;
    sync.ms += r.ms;
  };
  // The RSA table (and its target) covers 100 members and up: only those cases pay for the reference.
  const withSync = c.algo === 'rsa' && c.members >= 100;
  if (withSync) measureSync();
  // plan costs the same for either key algorithm: time it with the (fast) ECDSA cases only.
  const withPlan = c.algo === 'ecdsa';
  // The floor commands copy what gen writes: made once, outside the timing.
  if (withPlan) {
    await runCommand(NODE, [BIN, 'gen', 'spec.yaml', '--out', 'template'], { cwd: dir });
    writeFileSync(path.join(dir, 'files.txt'), fileManifest(path.join(dir, 'template')));
    writeFileSync(path.join(dir, 'durable-floor.cjs'), DURABLE_FLOOR_SCRIPT);
  }
  // The same gen and durable floor under the other Nodes, in the same hyperfine invocation. Their first
  // gen writes their own code cache beside the bundle (the launcher does that for a V8 it has none for):
  // done here, outside the timing, as a user's second run would find it.
  const others = isFloorTargetCase(c) ? otherNodes().map((node) => ({ node, version: versionOf(node) })) : [];
  for (const o of others) await runCommand(o.node, [BIN, 'gen', 'spec.yaml', '--out', `template-${o.version}`], { cwd: dir });
  const otherCommands = others.flatMap((o) => [`${o.node} ${BIN} gen spec.yaml --out out-gen-${o.version}`, `${o.node} durable-floor.cjs ${certificateCount(c.members)} out-floor-${o.version}`]);
  const otherPrepares = others.flatMap((o) => [moveAsideAndFlush(`out-gen-${o.version}`), moveAsideAndFlush(`out-floor-${o.version}`)]);
  result.others = others.map((o) => ({ version: o.version, genMs: [], durableMs: [] }));
  const floor = withPlan
    ? [`${NODE} -e 0`, 'cp -r template out-cp', `${NODE} durable-floor.cjs ${certificateCount(c.members)} out-floor`, `${NODE} ${BIN} gen spec.yaml --out template`]
    : [];
  for (let r = 0; r < c.rounds; r++) {
    progress(`gen: ${caseName(c)}, round ${r + 1}/${c.rounds}`);
    const commands = [`${NODE} ${BIN} gen spec.yaml --out out-gen`, 'bash loop.sh', ...(withPlan ? [`${NODE} ${BIN} plan spec.yaml --out out-gen`, ...floor] : []), ...otherCommands];
    const timed = await hyperfine(commands, {
      cwd: dir,
      json: path.join(dir, `hyperfine-${r}.json`),
      warmup: 0,
      runs: c.runs,
      prepare: [moveAsideAndFlush('out-gen'), moveAside('out-cfssl'), ...(withPlan ? [moveAside('out-gen'), 'true', moveAside('out-cp'), moveAsideAndFlush('out-floor'), 'true'] : []), ...otherPrepares],
      // Only a guard against a hung process (see bench/README.md, "Deadlock"): ten times the expected time.
      timeoutMs: 10 * c.runs * (30_000 + certificateCount(c.members) * (c.algo === 'rsa' ? 400 : 40)),
    });
    const [gen, cfssl, plan, node, copy, durable, rerun] = timed;
    const otherTimed = timed.slice(commands.length - otherCommands.length);
    result.others.forEach((o, i) => {
      o.genMs.push(...(otherTimed[2 * i]?.timesMs ?? []));
      o.durableMs.push(...(otherTimed[2 * i + 1]?.timesMs ?? []));
    });
    result.genMs.push(...(gen?.timesMs ?? []));
    result.cfsslMs.push(...(cfssl?.timesMs ?? []));
    result.planMs.push(...(plan?.timesMs ?? []));
    result.nodeMs.push(...(node?.timesMs ?? []));
    result.copyMs.push(...(copy?.timesMs ?? []));
    result.durableMs.push(...(durable?.timesMs ?? []));
    result.rerunMs.push(...(rerun?.timesMs ?? []));
    if (withSync) measureSync();
  }
  // The last plan run left no out-gen; gen once more to count what it writes.
  if (withPlan) await runCommand(NODE, [BIN, 'gen', 'spec.yaml', '--out', 'out-gen'], { cwd: dir });
  result.files = { gen: countFiles(path.join(dir, 'out-gen')), cfssl: countFiles(path.join(dir, 'out-cfssl')) };
  // Not removed here: see moveAside. The runner removes the whole bench directory at the end.
  if (withSync) result.sync = sync;
  return result;
}

const sampledOf = (c: GenCase): boolean => c.cfsslSample !== undefined && c.cfsslSample < c.members;

/** µs to create one empty file in `dir` now: ~30 µs normally, ~1 ms after mass deletions nearby (see moveAside). */
function fileCreationCost(dir: string, files = 300): number {
  const probe = path.join(dir, 'creation-probe');
  mkdirSync(probe, { recursive: true });
  const start = performance.now();
  for (let i = 0; i < files; i++) closeSync(openSync(path.join(probe, String(i)), 'wx'));
  return ((performance.now() - start) * 1000) / files;
}

export async function runGenBench(o: GenOptions): Promise<Section[]> {
  const creationUs = fileCreationCost(o.dir);
  const results: CaseResult[] = [];
  for (const c of o.cases) {
    if (c.tmpfs && !o.tmpfsDir) continue;
    try {
      results.push(await runCase(c, c.tmpfs ? (o.tmpfsDir as string) : o.dir, o.rsaSyncKeys));
    } catch (e) {
      progress(`gen: ${caseName(c)} failed: ${(e as Error).message}`);
      results.push({ c, genMs: [], cfsslMs: [], planMs: [], nodeMs: [], copyMs: [], durableMs: [], rerunMs: [], error: (e as Error).message });
    }
  }

  const rows: Cell[][] = results.map(({ c, genMs, cfsslMs, planMs, nodeMs, copyMs, durableMs, rerunMs, files }) => {
    const sampled = sampledOf(c);
    const cfssl = median(cfsslMs) * (sampled ? certificateCount(c.members) / certificateCount(c.cfsslSample as number) : 1);
    const floorMs = nodeMs.length && copyMs.length ? median(nodeMs) + median(copyMs) : NaN;
    const cfsslFiles = files ? (sampled ? `≈${Math.round((files.cfssl * certificateCount(c.members)) / certificateCount(c.cfsslSample as number))}` : String(files.cfssl)) : '—';
    return [
      String(c.members),
      c.algo === 'rsa' ? 'RSA-2048' : 'ECDSA P-256',
      c.tmpfs ? 'tmpfs' : 'disk',
      String(certificateCount(c.members)),
      ms(median(genMs)),
      planMs.length ? ms(median(planMs)) : '',
      rerunMs.length ? `${ms(median(rerunMs))} (${ratio(cfssl, median(rerunMs))})` : '',
      sampled ? `${ms(cfssl)} (extrapolated from ${c.cfsslSample})` : ms(cfssl),
      ratio(cfssl, median(genMs)),
      Number.isFinite(floorMs) ? `${ms(floorMs)} (${ms(median(nodeMs))} + ${ms(median(copyMs))})` : '',
      Number.isFinite(floorMs) ? ratio(cfssl, floorMs) : '',
      durableMs.length ? ms(median(durableMs)) : '',
      durableMs.length ? ratio(cfssl, median(durableMs)) : '',
      `${files?.gen ?? '—'} / ${cfsslFiles}`,
      `${genMs.length} / ${cfsslMs.length}`,
    ];
  });
  const speedup = (members: number, algo: Algo, tmpfs: boolean): number => {
    const r = results.find((x) => x.c.members === members && x.c.algo === algo && Boolean(x.c.tmpfs) === tmpfs && !sampledOf(x.c));
    return r ? median(r.cfsslMs) / median(r.genMs) : NaN;
  };
  const s100 = speedup(100, 'ecdsa', false);
  const s100tmpfs = speedup(100, 'ecdsa', true);
  const durable100 = results.find((x) => x.c.members === 100 && x.c.algo === 'ecdsa' && !x.c.tmpfs && x.durableMs.length);
  const durableCeiling = durable100 ? median(durable100.cfsslMs) / median(durable100.durableMs) : NaN;
  const genTable: Section = {
    title: '`etcd-tls gen` vs the blog\'s cfssl loop (hyperfine, whole commands)',
    intro: [
      'Spec: N members with one IP each, 2 clients, the CA and every leaf with the same key algorithm. cfssl loop: `cfssl gencert -initca`, then per',
      'certificate `echo CSR | cfssl gencert -ca … -config ca-config.json -profile=server|peer|client -hostname=… - | cfssljson -bare NAME`',
      "(the blog's ca-config.json), the same SANs as gen's certificates. gen also writes every member's etcd.env/yaml/service/install.sh and",
      'a ca.pem per member and client, all as temp files, flushed (one syncfs), renamed, flushed again; cfssljson writes cert, key and CSR without fsync.',
      "Each run writes into a fresh directory (the previous run's is moved aside, not deleted: see bench/README.md on file creation cost).",
      '`plan` = `etcd-tls plan` of the same spec (node start-up, spec parsing and planning: the part of gen that does not grow with keys and files).',
      're-run = gen again over its own unchanged output: every certificate and key read and checked, nothing written (the blog has no such step:',
      'its user re-runs the whole loop).',
      'floor = `node -e 0` + `cp -r` of a gen output (creating the same files natively, no fsync): no Node tool writing these files is faster,',
      'so cfssl / floor is the most speed-up any could show here.',
      'durable floor = one hand-written CommonJS file doing only what cannot be skipped when the files must survive a crash: node starts, one',
      "P-256 key and one signature per certificate, gen's files (same paths, sizes, modes) created in a staged tree, one syncfs, one rename.",
      'disk = the default temp dir (ext4 here); tmpfs = /dev/shm, to separate CPU from file-system cost. Extrapolated cells scale the sampled loop',
      'by certificate count (linear: one process pair per certificate). Medians over all runs.',
    ],
    head: [
      'members',
      'key',
      'fs',
      'certificates',
      'etcd-tls gen',
      'of which plan',
      're-run, nothing changed (× cfssl)',
      'cfssl loop',
      'speed-up (cfssl / gen)',
      'floor (node -e 0 + cp -r)',
      'ceiling (cfssl / floor)',
      'durable floor',
      'ceiling, durable (cfssl / durable floor)',
      'files (gen / cfssl)',
      'runs (gen / cfssl)',
    ],
    rows,
    notes: [
      ...(Number.isFinite(s100) ? [`Target: ≥ 10× faster than the cfssl loop at 100 members, ECDSA: ${s100.toFixed(1)}× on disk — ${s100 >= 10 ? 'met' : 'MISSED'}${Number.isFinite(s100tmpfs) ? ` (${s100tmpfs.toFixed(1)}× on tmpfs)` : ''}.`] : []),
      ...(Number.isFinite(durableCeiling) ? [`The durable floor at 100 members, ECDSA, on disk is ${durableCeiling.toFixed(1)}× the cfssl loop: the most any Node tool that flushes what it writes could show in this run.`] : []),
      `Creating an empty file in the bench directory cost ${creationUs.toFixed(0)} µs before the first case (~30 µs is normal here; ~1 ms means files were deleted nearby in the last minutes, see bench/README.md).`,
      ...results.filter((r) => r.error).map((r) => `${caseName(r.c)}: not measured: ${r.error}`),
    ],
  };
  const floorTable = durableFloorSection(results);
  const rsa = results.filter((r) => r.c.algo === 'rsa' && r.sync && r.c.members >= 100 && !r.error);
  const rsaRows: Cell[][] = rsa.map(({ c, genMs, sync }) => {
    const keys = certificateCount(c.members);
    const genRate = (keys * 1000) / median(genMs);
    const syncRate = sync ? (sync.keys * 1000) / sync.ms : NaN;
    return [String(c.members), String(keys), ms(median(genMs)), perSecond(genRate), perSecond(syncRate), ratio(genRate, syncRate)];
  });
  const rsaNotes = rsa.map(({ c, genMs, sync }) => {
    const r = (certificateCount(c.members) * 1000) / median(genMs) / (sync ? (sync.keys * 1000) / sync.ms : NaN);
    return `Target at ${c.members} members: gen's RSA rate ≥ 1.7× single-core: ${Number.isFinite(r) ? `${r.toFixed(2)}× — ${r >= 1.7 ? 'met' : 'MISSED'}` : 'not measured'}.`;
  });
  const rsaTable: Section = {
    title: 'RSA-2048 key generation: `etcd-tls gen` (thread pool) vs one core',
    intro: [
      "gen's rate = RSA keys in the cluster / gen's whole wall time (start-up, issuing and writing included, so it understates keygen alone).",
      `single core = generateKeyPairSync in this process, ${o.rsaSyncKeys} keys before the first round and after every round of that case.`,
    ],
    head: ['members', 'RSA keys', 'gen wall time', 'gen keys/s', 'single-core keys/s', 'gen / single-core'],
    rows: rsaRows,
    notes: rsaNotes,
  };
  return [genTable, ...(floorTable ? [floorTable] : []), ...(rsa.length ? [rsaTable] : [])];
}

/**
 * gen against the durable floor at 100 members, ECDSA, on disk, under every Node measured: the target
 * of issue #10 (gen ≤ 1.3× the floor). `plan` (Node start, spec, planning; no key, no file) splits gen
 * into what precedes issuing and what issuing and writing add, each beside the floor's share.
 */
function durableFloorSection(results: readonly CaseResult[]): Section | undefined {
  const r = results.find((x) => isFloorTargetCase(x.c) && x.durableMs.length && x.genMs.length);
  if (!r) return undefined;
  const node0 = median(r.nodeMs);
  const rows: Cell[][] = [];
  const notes: string[] = [];
  const add = (version: string, genMs: number[], durableMs: number[], planMs?: number[]): void => {
    const gen = median(genMs);
    const floor = median(durableMs);
    const plan = planMs?.length ? median(planMs) : NaN;
    rows.push([
      version,
      ms(gen),
      ms(floor),
      ratio(gen, floor),
      Number.isFinite(plan) ? ms(plan) : '',
      Number.isFinite(plan) && Number.isFinite(node0) ? `${ms(plan - node0)} / ${ms(gen - plan)}` : '',
      Number.isFinite(node0) && planMs ? `${ms(floor - node0)}` : '',
      `${genMs.length} / ${durableMs.length}`,
    ]);
    const x = gen / floor;
    notes.push(`Target (${version}): gen ≤ ${FLOOR_TARGET}× the durable floor at 100 members, ECDSA, on disk: ${Number.isFinite(x) ? `${x.toFixed(2)}× — ${x <= FLOOR_TARGET ? 'met' : 'MISSED'}` : 'not measured'}.`);
  };
  add(process.version, r.genMs, r.durableMs, r.planMs);
  for (const o of r.others ?? []) add(o.version, o.genMs, o.durableMs);
  return {
    title: '`etcd-tls gen` vs the durable floor (100 members, ECDSA P-256, on disk)',
    intro: [
      'The same hyperfine invocations as the table above; the other Nodes run gen and the durable floor beside it (ETCD_TLS_BENCH_NODES, else',
      "the Node 24 .ci/run installs; its code cache is written by a first gen outside the timing, as a user's second run finds it).",
      '`plan` and `node -e 0` are measured under the first Node only. Above node: `plan` − `node -e 0` is what gen spends before its first key',
      '(bundle load, spec, layout, rendering, planning); gen − `plan` is issuing and writing; the floor − `node -e 0` is all the floor does.',
    ],
    head: ['node', 'etcd-tls gen', 'durable floor', 'gen / floor', 'of which plan', 'gen above node: plan / issue + write', 'floor above node', 'runs (gen / floor)'],
    rows,
    notes,
  };
}
