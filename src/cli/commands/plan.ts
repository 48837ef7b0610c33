/** `etcd-tls plan SPEC --out DIR`: what gen would issue and write; writes nothing. */
import { fail } from '../../errors.js';
import { planFromSpec, readSpecFile } from '../../cluster/generate.js';
import type { ClusterPlan } from '../../cluster/plan.js';
import { describeKeySpec } from '../../pki/keys.js';
import { formatDuration } from '../../pki/duration.js';
import { parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';
import { rel } from '../live-output.js';

export const CLUSTER_FLAGS = {
  out: { type: 'string', value: 'DIR', description: 'output directory (default: ./etcd-tls-pki)' },
  local: { type: 'boolean', description: 'point every config at the files inside DIR, so the cluster can run in place' },
  json: { type: 'boolean', description: 'print JSON instead of text' },
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls plan SPEC [--out DIR] [--local] [--json]',
    '',
    'Show what `etcd-tls gen` would do with SPEC: every certificate (file, subject, SANs, usages,',
    'validity, key type) and whether it is created, reissued (and why) or kept, and every file written.',
    'Writes nothing.',
    '',
    'Options:',
    renderFlagHelp(CLUSTER_FLAGS),
    '',
    'Example:',
    '  etcd-tls plan cluster.yaml --out pki',
    '',
  ].join('\n');
}

export function specArgument(command: string, positionals: string[]): string {
  if (positionals.length !== 1) throw fail('USAGE', `${command}: expected exactly one SPEC file argument (see 'etcd-tls ${command} --help')`);
  return positionals[0] as string;
}


export function planToJson(plan: ClusterPlan): unknown {
  return {
    dir: plan.layout.dir,
    local: plan.layout.local,
    ca: { action: plan.ca.action, file: plan.layout.ca.cert, subject: plan.ca.subject, key: describeKeySpec(plan.ca.key), validity: formatDuration(plan.ca.expiryMs) },
    certificates: plan.certificates.map((c) => ({
      file: c.certPath,
      key: c.keyPath,
      action: c.action,
      reasons: c.reasons,
      role: c.intent.role,
      subject: c.intent.subject,
      dns: c.intent.dns,
      ips: c.intent.ips,
      usages: c.intent.usages,
      keyType: describeKeySpec(c.intent.key),
      validity: c.intent.validity,
    })),
    files: plan.files.map((f) => ({ file: f.path, action: f.action, mode: `0${f.mode.toString(8)}` })),
  };
}

export function renderPlan(plan: ClusterPlan): string {
  const lines: string[] = [];
  lines.push(`CA ${rel(plan.layout.ca.cert)}: ${plan.ca.action} — ${plan.ca.subject}, ${describeKeySpec(plan.ca.key)}, ${formatDuration(plan.ca.expiryMs)}`);
  lines.push('');
  lines.push('Certificates:');
  for (const c of plan.certificates) {
    const why = c.reasons.length && c.action === 'reissue' ? ` (${c.reasons.join('; ')})` : '';
    const subject = `CN=${c.intent.subject.CN}${c.intent.subject.O?.length ? `, O=${c.intent.subject.O.join('+')}` : ''}`;
    const sans = [...c.intent.dns.map((d) => `DNS:${d}`), ...c.intent.ips.map((i) => `IP:${i}`)].join(', ') || 'none';
    const eku = c.intent.usages.filter((u) => u.endsWith(' auth')).join('+');
    lines.push(`  ${c.action.padEnd(7)} ${rel(c.certPath)}${why}`);
    lines.push(`          ${subject}; ${eku}; ${describeKeySpec(c.intent.key)}; ${c.intent.validity}`);
    lines.push(`          SANs: ${sans}`);
  }
  const byAction = (a: string): number => plan.files.filter((f) => f.action === a).length;
  lines.push('');
  lines.push(`Files: ${byAction('create')} to create, ${byAction('update')} to update, ${byAction('keep')} unchanged`);
  for (const f of plan.files.filter((x) => x.action !== 'keep')) lines.push(`  ${f.action.padEnd(7)} ${rel(f.path)}`);
  return `${lines.join('\n')}\n`;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('plan', args, CLUSTER_FLAGS);
  const spec = readSpecFile(specArgument('plan', positionals), io.warn);
  const plan = await planFromSpec(spec, { out: flags.out ?? 'etcd-tls-pki', local: flags.local ?? false });
  io.out(flags.json ? `${JSON.stringify(planToJson(plan), null, 2)}\n` : renderPlan(plan));
  return 0;
}
