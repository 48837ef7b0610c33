/** `etcd-tls up SPEC --out DIR`: generate (in place) and start every member with the etcd on PATH. */
import { generateCluster, readSpecFile } from '../../cluster/generate.js';
import { awaitsMemberAdd, ETCD_INSTALL_HINT, findEtcd, startLocalCluster, type LocalMember } from '../../cluster/local.js';
import { fail } from '../../errors.js';
import { parseDuration } from '../../pki/duration.js';
import { parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';
import { specArgument } from './plan.js';
import { withoutTornWrites } from '../run.js';

const FLAGS = {
  out: { type: 'string', value: 'DIR', description: 'output directory (default: ./etcd-tls-pki)' },
  insecure: { type: 'boolean', description: 'start the members in plaintext (http URLs, no TLS) — the starting point for `etcd-tls migrate`' },
  timeout: { type: 'string', value: 'DURATION', description: 'how long to wait for every member to be healthy (default 30s)' },
  json: { type: 'boolean', description: 'print the member table as JSON' },
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls up SPEC [--out DIR] [--insecure] [--timeout 30s] [--json]',
    '',
    'Generate the cluster with --local (configs point into DIR), start every member with the `etcd`',
    'on PATH, each with its own etcd.env and nothing else in its environment, and wait until every',
    'member reports healthy over mTLS. Logs: DIR/nodes/<member>/etcd.log; PIDs: etcd.pid beside it.',
    'Members already running are left as they are. Stop them with `etcd-tls down --out DIR`.',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Example:',
    '  etcd-tls up cluster.yaml --out pki && etcd-tls down --out pki',
    '',
  ].join('\n');
}

export function renderMembers(members: readonly LocalMember[]): string {
  const rows = [['MEMBER', 'PID', 'CLIENT URL', 'PEER URL', 'STATE'], ...members.map((m) => [m.name, String(m.pid), m.clientUrl, m.peerUrl, m.alreadyRunning ? 'healthy (was running)' : 'healthy'])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  return `${rows.map((r) => r.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd()).join('\n')}\n`;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('up', args, FLAGS);
  const spec = readSpecFile(specArgument('up', positionals), io.warn);
  const etcdPath = findEtcd();
  if (!etcdPath) throw fail('ETCD_NOT_FOUND', `no etcd binary on PATH; ${ETCD_INSTALL_HINT}`);
  const timeoutMs = flags.timeout ? parseDuration(flags.timeout, '--timeout') : 30_000;
  const { plan } = await withoutTornWrites(io, () => generateCluster(spec, { out: flags.out ?? 'etcd-tls-pki', local: true }));
  if (io.isTTY && !flags.json) io.err(`starting ${plan.layout.members.length} member(s) with ${etcdPath} ...\n`);
  const members = await startLocalCluster(plan.layout, { etcdPath, timeoutMs, insecure: flags.insecure ?? false });
  io.out(flags.json ? `${JSON.stringify(members.map((m) => ({ ...m })), null, 2)}\n` : renderMembers(members));
  for (const m of plan.layout.members.filter(awaitsMemberAdd))
    io.err(`etcd-tls: warning: ${m.name} is new in the spec and joins the running cluster: run \`etcd-tls member add ${m.name} --spec SPEC --out DIR\`\n`);
  return 0;
}
