/**
 * Day-2 at scale, side by side in one run (`node dist/bench/lifecycle.js [--members 1000] [--runs 2]`):
 *   - `status` of a 1,000-member DIR against a kubeadm-style loop of `openssl x509 -enddate` per
 *     certificate (target: status ≥ 10× faster);
 *   - `renew --all` (same key) and `renew --all --rekey` against `gen` of the same spec into a fresh DIR
 *     (target: ≤ 1.3× gen's time).
 * Whole commands as users run them (wall clock, performance.now around a child process), median of runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderSection, type Section } from './table.js';

const CLI = fileURLToPath(new URL('../../bin/etcd-tls', import.meta.url));

function time(cmd: string, args: string[], cwd: string, okCodes = [0]): number {
  const start = performance.now();
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - start;
  if (!okCodes.includes(r.status ?? -1)) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr.slice(0, 500)}`);
  return ms;
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

// ETCD_INITIAL_CLUSTER is limited to 4096 characters (hostile-input hardening), ~140 members; a
// 1,000-member DIR is built as specs of CHUNK members sharing one CA (gen keeps the CA and adds members).
const CHUNK = 125;
function spec(from: number, to: number): string {
  const lines = ['cluster: bench', 'ca: { cn: bench etcd CA }', 'members:'];
  for (let i = from; i < to; i++) lines.push(`  - { name: m${i}, ips: [10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}] }`);
  lines.push('clients:', '  - { name: kube-apiserver, cn: kube-apiserver-etcd-client }', '  - { name: admin, cn: root }', '');
  return lines.join('\n');
}

function certFiles(dir: string): string[] {
  const out = [path.join(dir, 'ca.pem')];
  for (const m of readdirSync(path.join(dir, 'nodes'))) out.push(path.join(dir, 'nodes', m, 'server.pem'), path.join(dir, 'nodes', m, 'peer.pem'));
  for (const c of readdirSync(path.join(dir, 'clients'))) out.push(path.join(dir, 'clients', c, 'client.pem'));
  return out;
}

export function runLifecycleBench(members: number, runs: number): Section {
  const work = mkdtempSync(path.join(tmpdir(), 'etcd-tls-bench-lifecycle-'));
  try {
    const specs: string[] = [];
    for (let from = 0; from < members; from += CHUNK) {
      specs.push(`spec-${from}.yaml`);
      writeFileSync(path.join(work, `spec-${from}.yaml`), spec(from, Math.min(members, from + CHUNK)));
    }
    const node = process.execPath;
    const genAll = (out: string): number => specs.reduce((ms, s) => ms + time(node, [CLI, 'gen', s, '--out', out], work), 0);
    const genMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      rmSync(path.join(work, 'fresh'), { recursive: true, force: true });
      genMs.push(genAll('fresh'));
    }
    genAll('pki');
    const files = certFiles(path.join(work, 'pki'));
    writeFileSync(path.join(work, 'certs.txt'), `${files.join('\n')}\n`);
    const renewMs: number[] = [];
    const rekeyMs: number[] = [];
    const statusMs: number[] = [];
    const opensslMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const loopThisRun = i === 0; // the openssl loop takes minutes on a loaded machine: once is enough for a ≥ 10× verdict
      renewMs.push(time(node, [CLI, 'renew', 'pki', '--all'], work));
      rekeyMs.push(time(node, [CLI, 'renew', 'pki', '--all', '--rekey'], work));
      statusMs.push(time(node, [CLI, 'status', 'pki', '--json'], work, [0, 3, 4]));
      // kubeadm's check-expiration done by hand: one openssl per certificate.
      if (loopThisRun) opensslMs.push(time('sh', ['-c', 'while read -r f; do openssl x509 -enddate -noout -in "$f"; done < certs.txt > /dev/null'], work));
    }
    const g = median(genMs);
    const rows: [string, number, string, string][] = [
      [`gen ${members} members into a fresh DIR (${specs.length} specs of ≤ ${CHUNK}, reference)`, g, '1.00× gen', ''],
      ['renew --all (same key)', median(renewMs), `${(median(renewMs) / g).toFixed(2)}× gen`, median(renewMs) / g <= 1.3 ? 'met (≤ 1.3×)' : 'MISSED (≤ 1.3×)'],
      ['renew --all --rekey', median(rekeyMs), `${(median(rekeyMs) / g).toFixed(2)}× gen`, median(rekeyMs) / g <= 1.3 ? 'met (≤ 1.3×)' : 'MISSED (≤ 1.3×)'],
      [`openssl x509 -enddate loop (${files.length} certificates, reference)`, median(opensslMs), '1.00× loop', ''],
      ['status --json', median(statusMs), `${(median(opensslMs) / median(statusMs)).toFixed(1)}× faster than the loop`, median(opensslMs) / median(statusMs) >= 10 ? 'met (≥ 10×)' : 'MISSED (≥ 10×)'],
    ];
    return {
      title: `Day 2 at ${members} members (${files.length} certificates), median of ${runs} run(s)`,
      intro: ['`renew --all` and `status` of one DIR beside `gen` of the same members into a fresh DIR, and a kubeadm-style `openssl x509 -enddate` loop, in the same run.'],
      head: ['command', 'time', 'ratio', 'target'],
      rows: rows.map(([c, ms, r, t]) => [c, `${(ms / 1000).toFixed(2)} s`, r, t]),
      notes: [],
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const { values } = parseArgs({ options: { members: { type: 'string' }, runs: { type: 'string' } } });
  process.stdout.write(renderSection(runLifecycleBench(Number(values.members ?? 1000), Number(values.runs ?? 2))));
}
