/** `etcd-tls migrate`: a running plaintext cluster to TLS, member by member, without losing a write. */
import * as path from 'node:path';
import { migrateCluster, previewMigration, type MigrateOptions, type MigrationPreview, type MigrationReport } from '../../ops/migrate/migrate.js';
import { fail } from '../../errors.js';
import { parseDuration } from '../../pki/duration.js';
import { parseFlags, renderFlagHelp, wholeNumberFlag, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';
import { liveOutput, rel, renderPlanListing, seconds } from '../live-output.js';

const FLAGS = {
  spec: { type: 'string', value: 'SPEC', description: 'the cluster spec (also accepted as the only argument)' },
  out: { type: 'string', value: 'DIR', description: 'the generated directory the cluster runs from (default: ./etcd-tls-pki)' },
  'dry-run': { type: 'boolean', description: 'check the preconditions and print the plan; change nothing' },
  'legacy-client-port': { type: 'string', value: 'PORT', description: 'plaintext client port kept for old clients on every member (default: client port - 1)' },
  'drop-plaintext': { type: 'boolean', description: 'at the end, restart every member without the plaintext client listener' },
  manual: { type: 'boolean', description: 'restart nothing, even members `etcd-tls up` started: print each step for an operator and wait for it' },
  force: { type: 'boolean', description: 'migrate a 1- or 2-member cluster anyway (it loses quorum while each member restarts)' },
  timeout: { type: 'string', value: 'DURATION', description: 'how long a restarted member may take to rejoin a healthy cluster (default 60s)' },
  wait: { type: 'string', value: 'DURATION', description: 'how long to wait for an operator to carry out a printed step (default 30m)' },
  'stop-after': { type: 'string', value: 'N', description: 'for tests: stop after N steps, as an interruption would (run again to resume)' },
  json: { type: 'boolean', description: 'print the plan (--dry-run) or the outcome as JSON; printed steps go to stderr' },
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls migrate --spec SPEC [--out DIR] [--dry-run] [--drop-plaintext] [--json]',
    '',
    'Move a running plaintext cluster (e.g. `etcd-tls up SPEC --insecure`) to TLS one member at a',
    'time, keeping quorum and clients served throughout (the sequence verified on etcd 3.4.23):',
    '  phase 1, each member: restart with TLS on its client port, plus plaintext on a second port',
    '          (client port - 1) for old clients; TLS files for client and peer; peer URL stays http.',
    '  phase 2, each member: `member update` its peer URL to https, then restart it at once with an',
    '          https peer listener.',
    '  phase 3 (--drop-plaintext): restart each member without the plaintext client listener.',
    'After every restart the whole cluster must be healthy over mTLS, every listener must answer with',
    'the planned scheme and every member must list the same members before the next step.',
    '',
    'Preconditions (checked first; nothing changes when one fails): the certificates in DIR match the',
    'spec (run `etcd-tls gen SPEC --out DIR --local` first), at least 3 voting members, every member',
    'healthy, peer certificates carrying the addresses members dial from, plaintext ports free.',
    '',
    'Members started by `etcd-tls up` are restarted by migrate itself. For any other member (and for',
    'all with --manual) it prints the exact etcd.env changes and the `etcdctl member update` command',
    'with the member ID, then waits until the cluster shows the step done.',
    '',
    'Progress is kept in DIR/migration.json after every step: after an interruption, run the same',
    'command again to continue. Ctrl-C stops after the current step (twice: at once).',
    "DIR/nodes/<member>/etcd.env already describes the https end state, so `etcd-tls down` then",
    '`etcd-tls up SPEC --out DIR` restarts the migrated cluster over https.',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    '  etcd-tls up cluster.yaml --out pki --insecure       # a plaintext cluster to start from',
    '  etcd-tls migrate --spec cluster.yaml --out pki --dry-run',
    '  etcd-tls migrate --spec cluster.yaml --out pki',
    '  etcd-tls migrate --spec cluster.yaml --out pki --drop-plaintext   # once old clients have moved',
    '',
  ].join('\n');
}

const PHASE_TITLES: Record<1 | 2 | 3, string> = {
  1: 'Phase 1: TLS on every client port (plaintext kept on a second port for old clients); peer URLs stay http',
  2: 'Phase 2: peer URLs to https, each member updated and then restarted at once',
  3: 'Phase 3: drop the plaintext client listeners',
};

export function renderPreview(p: MigrationPreview): string {
  const head = [
    `Migration of cluster ${p.cluster} (${rel(p.dir)}): ${p.plan.steps.length} steps, ${p.done.length} done${p.done.length ? ` (${rel(p.stateFile)})` : ''}`,
    '',
    'Preconditions:',
    ...p.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(15)} ${c.message}`),
  ];
  if (p.alreadyMigrated) return `${[...head, '', 'Nothing to migrate: every client and peer URL is https already.'].join('\n')}\n`;
  return renderPlanListing({
    head,
    steps: p.steps,
    done: p.done,
    phaseTitle: (phase) => PHASE_TITLES[phase as 1 | 2 | 3],
    foot: [
      'After every restart: every member healthy over mTLS, its plaintext and peer listeners answering with the',
      'planned scheme, and every member listing the same members with the planned URLs.',
      `Clients without a certificate keep writing to ${p.legacyEndpoints.join(', ')} from phase 1 on.`,
    ],
  });
}

function previewJson(p: MigrationPreview): unknown {
  const done = new Set(p.done);
  return {
    cluster: p.cluster,
    dir: p.dir,
    stateFile: p.stateFile,
    ok: p.ok,
    alreadyMigrated: p.alreadyMigrated,
    checks: p.checks,
    ids: p.ids,
    managed: p.managed,
    legacyClientPorts: p.plan.legacyClientPorts,
    legacyEndpoints: p.legacyEndpoints,
    dropPlaintext: p.plan.dropPlaintext,
    steps: p.plan.steps.map((s, i) => ({
      index: i + 1,
      id: s.id,
      phase: s.phase,
      kind: s.kind,
      member: s.member,
      done: done.has(s.id),
      manual: !p.steps[i]?.managed,
      summary: s.summary,
      ...(s.changes ? { set: Object.fromEntries(s.changes.set), unset: s.changes.unset } : {}),
      runbook: s.runbook,
    })),
  };
}

function renderReport(r: MigrationReport, options: MigrateOptions): string {
  const flags = `--spec ${options.spec} --out ${options.out}`;
  if (r.preview.alreadyMigrated) return 'Nothing to migrate: every client and peer URL is https already.\n';
  if (r.stopped) {
    const done = r.preview.done.length + r.executed.length;
    return `Stopped after ${r.executed.length} step(s) of this run (${done} of ${r.preview.plan.steps.length} done, recorded in ${rel(r.preview.stateFile)}). Run \`etcd-tls migrate ${flags}\` to continue.\n`;
  }
  const lines = [
    r.executed.length === 0
      ? `Nothing to do: the migration recorded in ${rel(r.preview.stateFile)} is complete; every member serves TLS on its client and peer URLs.`
      : `Done in ${seconds(r.durationMs)}: every member serves TLS on its client and peer URLs.`,
    'member list:',
    ...r.members.map((m) => `  ${m.idHex}, ${m.name}, ${m.peerURLs.join(',')}, ${m.clientURLs.join(',')}`),
  ];
  if (r.plaintextEndpoints.length > 0)
    lines.push(
      `Clients without a certificate can still write to ${r.plaintextEndpoints.join(', ')} until these members restart.`,
      `Once they have moved to https, run \`etcd-tls migrate ${flags} --drop-plaintext\`.`,
    );
  lines.push(`${rel(path.join(r.preview.dir, 'nodes'))}/<member>/etcd.env describes the https end state (what \`etcd-tls up\` starts).`);
  return `${lines.join('\n')}\n`;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('migrate', args, FLAGS);
  if (positionals.length > 1 || (positionals.length === 1 && flags.spec)) throw fail('USAGE', "migrate: give the spec once, as --spec SPEC or as the only argument (see 'etcd-tls migrate --help')");
  const spec = flags.spec ?? positionals[0];
  if (!spec) throw fail('MISSING_FLAG', "migrate: --spec is required: the cluster spec the directory was generated from (see 'etcd-tls migrate --help')");
  const legacy = wholeNumberFlag('migrate', flags['legacy-client-port'], 'legacy-client-port');
  const stopAfter = wholeNumberFlag('migrate', flags['stop-after'], 'stop-after');
  const options: MigrateOptions = {
    spec,
    out: flags.out ?? 'etcd-tls-pki',
    ...(legacy !== undefined ? { legacyClientPort: legacy } : {}),
    dropPlaintext: flags['drop-plaintext'] ?? false,
    manual: flags.manual ?? false,
    force: flags.force ?? false,
    ...(flags.timeout ? { stepTimeoutMs: parseDuration(flags.timeout, '--timeout') } : {}),
    ...(flags.wait ? { manualWaitMs: parseDuration(flags.wait, '--wait') } : {}),
    ...(stopAfter !== undefined ? { stopAfter } : {}),
  };

  if (flags['dry-run']) {
    const preview = await previewMigration(options);
    io.out(flags.json ? `${JSON.stringify(previewJson(preview), null, 2)}\n` : `${renderPreview(preview)}Nothing was changed (--dry-run).\n`);
    return preview.ok ? 0 : 1;
  }

  // Steps go to stdout as the record of what happened; with --json only the outcome does, and the
  // runbook an operator must follow goes to stderr.
  const live = liveOutput(io, Boolean(flags.json));
  try {
    const report = await migrateCluster(options, { onEvent: live.onEvent, shouldStop: live.shouldStop });
    if (flags.json) {
      const members = report.members.map((m) => ({ id: m.idHex, name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs }));
      io.out(`${JSON.stringify({ complete: report.complete, stopped: report.stopped, durationMs: report.durationMs, stateFile: report.preview.stateFile, executed: report.executed, members, plaintextEndpoints: report.plaintextEndpoints }, null, 2)}\n`);
    } else io.out(renderReport(report, options));
    return 0;
  } finally {
    live.release();
  }
}
