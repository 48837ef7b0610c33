/**
 * `check` of a generated directory beside the peer a person would reach for: an `openssl verify` loop
 * over the same leaf certificates (one process per certificate; it checks only the chain, while check
 * also lints keys, SANs, usages and every etcd config). Both whole commands, timed by hyperfine.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { BIN, NODE } from './cli.js';
import { hyperfine, median, ms, progress, ratio, runCommand, type Section } from './table.js';

export interface CheckBenchOptions {
  dir: string;
  members: number;
  runs: number;
}

function specYaml(members: number): string {
  const lines = ['cluster: bench', 'members:'];
  for (let i = 0; i < members; i++) lines.push(`  - { name: member${i + 1}, ips: [10.${(i + 1) >> 16}.${((i + 1) >> 8) & 255}.${(i + 1) & 255}] }`);
  lines.push('clients:', '  - { name: kube-apiserver, cn: kube-apiserver-etcd-client }', '  - { name: admin, cn: root }');
  return `${lines.join('\n')}\n`;
}

/** Every leaf certificate gen wrote, relative to DIR. */
function leafCertificates(out: string): string[] {
  const files: string[] = [];
  for (const group of ['nodes', 'clients'])
    for (const unit of readdirSync(path.join(out, group)).sort())
      for (const f of readdirSync(path.join(out, group, unit)))
        if (/^(server|peer|client)\.pem$/.test(f)) files.push(path.join(group, unit, f));
  return files;
}

export async function runCheckBench(o: CheckBenchOptions): Promise<Section[]> {
  writeFileSync(path.join(o.dir, 'spec.yaml'), specYaml(o.members));
  progress(`check: gen of ${o.members} members`);
  await runCommand(NODE, [BIN, 'gen', 'spec.yaml', '--out', 'pki'], { cwd: o.dir });
  const leaves = leafCertificates(path.join(o.dir, 'pki'));
  writeFileSync(path.join(o.dir, 'verify.sh'), `set -e\ncd pki\n${leaves.map((f) => `openssl verify -CAfile ca.pem ${f} >/dev/null`).join('\n')}\n`);
  // The gen above (and the gen section before this one) leaves dirty pages: flush them, so that neither
  // command is timed while the kernel writes back what came before it.
  await runCommand('sync', [], { cwd: o.dir });
  progress(`check: hyperfine, ${o.runs} runs each`);
  const [check, openssl] = await hyperfine([`${NODE} ${BIN} check pki`, 'sh verify.sh'], {
    cwd: o.dir,
    json: path.join(o.dir, 'hyperfine-check.json'),
    warmup: 1,
    runs: o.runs,
    timeoutMs: o.runs * 4 * 600_000,
  });
  const checkMs = median(check?.timesMs ?? []);
  const opensslMs = median(openssl?.timesMs ?? []);
  return [
    {
      title: `check of a ${o.members}-member directory`,
      intro: [
        `\`etcd-tls check pki\` (every certificate, key, CA copy and etcd config of ${o.members} members and 2 clients) beside a loop of`,
        `\`openssl verify -CAfile ca.pem\` over its ${leaves.length} leaf certificates; hyperfine -N, ${o.runs} runs each, medians.`,
      ],
      head: ['command', 'median', 'CPU (user+sys)', 'openssl loop / this'],
      rows: [
        ['etcd-tls check', ms(checkMs), ms(check?.cpuMs ?? NaN), ratio(opensslMs, checkMs)],
        [`openssl verify × ${leaves.length}`, ms(opensslMs), ms(openssl?.cpuMs ?? NaN), '1.00×'],
      ],
      notes: [
        `Target: check ≥ 10× faster than the openssl loop: ${Number.isFinite(opensslMs / checkMs) ? `${ratio(opensslMs, checkMs)} — ${opensslMs / checkMs >= 10 ? 'met' : 'MISSED'}` : 'not measured'}.`,
      ],
    },
  ];
}
