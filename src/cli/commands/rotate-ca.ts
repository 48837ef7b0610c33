/** `etcd-tls rotate-ca`: replace the CA of a running cluster in four phases, without a failed write. */
import * as path from 'node:path';
import { fail } from '../../errors.js';
import { planRotation, ROTATION_PHASES, rotateCa, type RotateOptions, type RotationPlan, type RotationReport } from '../../ops/rotate-ca.js';
import { parseDuration } from '../../pki/duration.js';
import { parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';
import { liveOutput, planStepsJson, rel, renderPlanListing } from '../live-output.js';
import { CA_PASSPHRASE_FLAGS, passphraseSource } from '../passphrase.js';

const FLAGS = {
  spec: { type: 'string', value: 'SPEC', description: 'the cluster spec DIR was generated from (also accepted as the only argument)' },
  out: { type: 'string', value: 'DIR', description: 'the generated directory (default: ./etcd-tls-pki)' },
  client: { type: 'string', value: 'NAME', description: 'the spec client etcd-tls acts with (default: admin)' },
  'dry-run': { type: 'boolean', description: 'print exactly the steps a run executes (and which are done); change nothing' },
  'clients-updated': { type: 'boolean', description: 'the clients run with their new ca.pem and client.pem: go past that step' },
  manual: { type: 'boolean', description: 'restart nothing, even members `etcd-tls up` runs: print each step and wait for it' },
  timeout: { type: 'string', value: 'DURATION', description: 'how long a restarted member may take to be healthy again (default 90s)' },
  wait: { type: 'string', value: 'DURATION', description: 'how long to wait for an operator to carry out a printed step (default 30m)' },
  'stop-after': { type: 'string', value: 'PHASE', description: 'for tests: stop once phase 1-4 is done, as an interruption would (run again to resume)' },
  json: { type: 'boolean', description: 'print the plan (--dry-run) or the outcome as JSON; printed steps go to stderr' },
  'encrypt-ca-key': { type: 'boolean', description: 'encrypt the new CA key (always done when the old one is encrypted; same passphrase)' },
  ...CA_PASSPHRASE_FLAGS,
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls rotate-ca --spec SPEC [--out DIR] [--dry-run] [--clients-updated] [--json]',
    '',
    'Replace the CA of a running cluster with no failed write (etcd reads its CA file only at start,',
    'its certificates at every handshake), one member at a time behind a health gate:',
    ...Object.entries(ROTATION_PHASES).map(([n, t]) => `  phase ${n}: ${t}`),
    'Between the client and the member certificates of phase 3 the clients (kube-apiserver and others)',
    'must be given their new ca.pem (old+new) and client.pem and be restarted: the run stops there and',
    'lists the files; run it again with --clients-updated once done. They keep working throughout.',
    '',
    'Progress is kept in DIR/rotation.json after every step: after an interruption (Ctrl-C, a crash, a',
    'member that does not come back) run the same command again. Members `etcd-tls up` runs are',
    'restarted by rotate-ca; for any other member it prints what to copy where and waits until the',
    'member shows the step done (it trusts the new CA, serves its certificate, refuses the old one).',
    'The old CA ends in DIR/archive/ca-<time>/; gen and check refuse or report a half-done rotation.',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    '  etcd-tls rotate-ca --spec cluster.yaml --out pki --dry-run',
    '  etcd-tls rotate-ca --spec cluster.yaml --out pki                     # stops at the clients step',
    '  etcd-tls rotate-ca --spec cluster.yaml --out pki --clients-updated   # after copying their files',
    '',
  ].join('\n');
}

export function renderRotationPlan(p: RotationPlan): string {
  return renderPlanListing({
    head: [`CA rotation of cluster ${p.cluster} (${rel(p.dir)}): ${p.steps.length} steps, ${p.done.length} done${p.done.length ? ` (${rel(p.stateFile)})` : ''}; members ${p.members.join(', ')}; acting as ${p.identity}`],
    steps: p.steps,
    done: p.done,
    phaseTitle: (phase) => `Phase ${phase}: ${ROTATION_PHASES[phase]}`,
    foot: ['Before and after every step: every member healthy over mTLS and listing the same members.'],
  });
}

function planJson(p: RotationPlan): unknown {
  return {
    cluster: p.cluster,
    stateFile: p.stateFile,
    phase: p.phase,
    members: p.members,
    clients: p.clients,
    steps: planStepsJson(p.steps, p.done),
  };
}

function renderReport(r: RotationReport, resume: string): string {
  const o = r.outcome;
  if (o.awaiting)
    return `Stopped at step ${o.awaiting.id}: ${o.awaiting.title}\n${o.awaiting.runbook.map((l) => `  ${l}`).join('\n')}\nRun \`${resume} --clients-updated\` once the clients run with their new files.\n`;
  if (o.stopped) return `Stopped after ${o.executed.length} step(s) of this run; next: phase ${r.plan.phase}, ${ROTATION_PHASES[r.plan.phase] ?? ''} (recorded in ${rel(r.plan.stateFile)}). Run \`${resume}\` to continue.\n`;
  return `Done: every member and client certificate is issued by the new CA (${rel(path.join(r.plan.dir, 'ca.pem'))}); members trust only it; the old CA is in ${rel(path.join(r.plan.dir, 'archive'))}/ca-${o.state.data.archive ?? '?'}/.\n`;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('rotate-ca', args, FLAGS);
  if (positionals.length > 1 || (positionals.length === 1 && flags.spec)) throw fail('USAGE', "rotate-ca: give the spec once, as --spec SPEC or as the only argument (see 'etcd-tls rotate-ca --help')");
  const spec = flags.spec ?? positionals[0];
  if (!spec) throw fail('MISSING_FLAG', "rotate-ca: --spec is required: the cluster spec the directory was generated from (see 'etcd-tls rotate-ca --help')");
  const stop = flags['stop-after'];
  if (stop !== undefined && !/^[1-4]$/.test(stop)) throw fail('USAGE', `rotate-ca: --stop-after: "${stop}" is not a phase (1-4)`);
  const options: RotateOptions = {
    spec,
    out: flags.out ?? 'etcd-tls-pki',
    ...(flags.client ? { client: flags.client } : {}),
    manual: flags.manual ?? false,
    clientsUpdated: flags['clients-updated'] ?? false,
    encryptCaKey: flags['encrypt-ca-key'] ?? false,
    passphrase: passphraseSource(flags),
    ...(stop !== undefined ? { stopAfterPhase: Number(stop) } : {}),
    ...(flags.timeout ? { stepTimeoutMs: parseDuration(flags.timeout, '--timeout') } : {}),
    ...(flags.wait ? { manualWaitMs: parseDuration(flags.wait, '--wait') } : {}),
  };
  const resume = `etcd-tls rotate-ca --spec ${spec} --out ${options.out}`;
  if (flags['dry-run']) {
    const { plan } = await planRotation(options);
    io.out(flags.json ? `${JSON.stringify(planJson(plan), null, 2)}\n` : `${renderRotationPlan(plan)}Nothing was changed (--dry-run).\n`);
    return 0;
  }
  const live = liveOutput(io, Boolean(flags.json), (phase) => `Phase ${phase}: ${ROTATION_PHASES[phase]}`);
  try {
    const report = await rotateCa(options, { onEvent: live.onEvent, shouldStop: live.shouldStop });
    if (flags.json) {
      const o = report.outcome;
      io.out(`${JSON.stringify({ complete: o.complete, stopped: o.stopped, awaiting: o.awaiting?.id ?? null, phase: report.plan.phase, stateFile: report.plan.stateFile, executed: o.executed, archive: o.state.data.archive ?? null }, null, 2)}\n`);
      if (o.awaiting) io.err(renderReport(report, resume));
    } else io.out(renderReport(report, resume));
    return 0;
  } finally {
    live.release();
  }
}
