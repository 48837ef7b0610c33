/** `etcd-tls member add|remove NAME`: change a running cluster's membership from the spec, one member at a time. */
import { fail } from '../../errors.js';
import { addMember, planMemberAdd, planMemberRemove, removeMember, type MemberOpOptions, type MemberOpPlan, type MemberOpReport, type RevokeMember } from '../../ops/members.js';
import { parseDuration } from '../../pki/duration.js';
import { parseFlags, renderFlagHelp, wholeNumberFlag, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';
import { liveOutput, planStepsJson, rel, renderPlanListing } from '../live-output.js';
import { CA_PASSPHRASE_FLAGS, passphraseSource } from '../passphrase.js';
import type { PassphraseSource } from '../../lifecycle/ca-key.js';

const FLAGS = {
  spec: { type: 'string', value: 'SPEC', description: 'the cluster spec DIR was generated from' },
  out: { type: 'string', value: 'DIR', description: 'the generated directory (default: ./etcd-tls-pki)' },
  client: { type: 'string', value: 'NAME', description: 'the spec client to act with (default: admin)' },
  'dry-run': { type: 'boolean', description: 'check the preconditions and print the steps; change nothing' },
  manual: { type: 'boolean', description: 'start and stop nothing, even members `etcd-tls up` runs: print each step and wait for it' },
  force: { type: 'boolean', description: 'remove even when fewer than 3 members remain' },
  timeout: { type: 'string', value: 'DURATION', description: 'how long a step may take to show in the cluster (default 90s)' },
  wait: { type: 'string', value: 'DURATION', description: 'how long to wait for an operator to carry out a printed step (default 30m)' },
  'stop-after': { type: 'string', value: 'N', description: 'for tests: stop after N steps, as an interruption would (run again to resume)' },
  json: { type: 'boolean', description: 'print the plan (--dry-run) or the outcome as JSON; printed steps go to stderr' },
  ...CA_PASSPHRASE_FLAGS,
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls member add NAME --spec SPEC [--out DIR] [--dry-run] [--json]',
    '       etcd-tls member remove NAME --spec SPEC [--out DIR] [--force] [--dry-run] [--json]',
    '',
    'add: NAME is a member you added to SPEC and generated with `etcd-tls gen` (which gives it only its',
    'own certificates and an etcd.env with ETCD_INITIAL_CLUSTER_STATE=existing and the current members).',
    "Then, as etcd's runtime-reconfiguration guide requires, one member at a time:",
    '  1. member add NAME --learner through a running member (a learner does not count toward quorum),',
    '  2. start NAME (members `etcd-tls up` runs: etcd-tls starts it; others: the commands to run there),',
    '  3. promote it to a voting member once it has caught up; every member healthy before the next step.',
    'Refused (nothing changed): NAME not in SPEC or not generated, an address another member or process',
    'already uses (ADDRESS_COLLISION), another operation recorded unfinished, a member unhealthy.',
    '',
    'remove: member remove NAME through another member, stop it where `up` started it, revoke its',
    'certificates, and archive DIR/nodes/NAME to DIR/archive/members/. Refused when it would lose quorum:',
    'the last member, a remaining member down, or fewer than 3 members left without --force (QUORUM_AT_RISK).',
    '',
    'Progress is kept in DIR/membership.json: after an interruption run the same command again.',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    '  etcd-tls gen cluster.yaml --out pki --local          # after adding member4 to cluster.yaml',
    '  etcd-tls member add member4 --spec cluster.yaml --out pki',
    '  etcd-tls member remove member4 --spec cluster.yaml --out pki --dry-run',
    '',
  ].join('\n');
}

export function renderPlan(p: MemberOpPlan): string {
  const [verb, to] = p.operation === 'member-add' ? ['Add', 'to'] : ['Remove', 'from'];
  return renderPlanListing({
    head: [`${verb} ${p.name} ${to} cluster ${p.cluster} (${rel(p.dir)}): voting members ${p.before.join(', ')} -> ${p.after.join(', ')}; acting as ${p.identity}`, ...p.notes.map((n) => `note: ${n}`)],
    steps: p.steps,
    done: p.done,
    foot: ['Before and after every step: every voting member healthy over mTLS and listing the same members.'],
  });
}

function planJson(p: MemberOpPlan): unknown {
  return {
    operation: p.operation,
    member: p.name,
    cluster: p.cluster,
    stateFile: p.stateFile,
    votersBefore: p.before,
    votersAfter: p.after,
    nothingToDo: p.nothingToDo,
    notes: p.notes,
    steps: planStepsJson(p.steps, p.done),
  };
}

function renderReport(r: MemberOpReport, resume: string): string {
  const p = r.plan;
  if (p.nothingToDo) return `Nothing to do: ${p.name} is ${p.operation === 'member-add' ? 'already a voting member' : 'not a member'}.\n`;
  const o = r.outcome;
  if (o?.stopped) return `Stopped after ${o.executed.length} step(s) of this run (recorded in ${rel(p.stateFile)}). Run \`${resume}\` to continue.\n`;
  return [
    `Done: ${p.name} ${p.operation === 'member-add' ? 'is a voting member' : 'is removed'}; voting members ${p.after.join(', ')}.`,
    'member list:',
    ...r.members.map((m) => `  ${m.idHex}, ${m.isLearner ? 'learner' : 'voter'}, ${m.name}, ${m.peerURLs.join(',')}, ${m.clientURLs.join(',')}`),
    ...p.notes.map((n) => `note: ${n}`),
    '',
  ].join('\n');
}

/** Revocation of a removed member's server and peer certificates: lifecycle's revoke, reason cessationOfOperation. */
function revokeWith(passphrase: PassphraseSource): RevokeMember {
  return async (dir, member) => {
    const { revoke } = await import('../../lifecycle/revoke.js');
    const r = await revoke(dir, { members: [member], reason: 'cessationOfOperation' }, { passphrase });
    return [...r.revoked, ...r.alreadyRevoked].map((x) => x.serial).join(',');
  };
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('member', args, FLAGS);
  const [verb, name, ...extra] = positionals;
  if (verb !== 'add' && verb !== 'remove') throw fail('USAGE', `member: expected \`member add NAME\` or \`member remove NAME\`, got ${JSON.stringify(verb ?? '')} (see 'etcd-tls member --help')`);
  if (!name || extra.length > 0) throw fail('USAGE', `member ${verb}: give exactly one member NAME (see 'etcd-tls member --help')`);
  if (!flags.spec) throw fail('MISSING_FLAG', `member ${verb}: --spec is required: the cluster spec the directory was generated from`);
  const stopAfter = wholeNumberFlag('member', flags['stop-after'], 'stop-after');
  const options: MemberOpOptions = {
    spec: flags.spec,
    out: flags.out ?? 'etcd-tls-pki',
    name,
    ...(flags.client ? { client: flags.client } : {}),
    force: flags.force ?? false,
    manual: flags.manual ?? false,
    ...(flags.timeout ? { stepTimeoutMs: parseDuration(flags.timeout, '--timeout') } : {}),
    ...(flags.wait ? { manualWaitMs: parseDuration(flags.wait, '--wait') } : {}),
    ...(stopAfter !== undefined ? { stopAfter } : {}),
  };
  const resume = `etcd-tls member ${verb} ${name} --spec ${options.spec} --out ${options.out}`;
  const revoke = verb === 'remove' ? revokeWith(passphraseSource(flags)) : undefined;

  if (flags['dry-run']) {
    const { plan } = verb === 'add' ? await planMemberAdd(options) : await planMemberRemove(options, revoke);
    io.out(flags.json ? `${JSON.stringify(planJson(plan), null, 2)}\n` : `${renderPlan(plan)}Nothing was changed (--dry-run).\n`);
    return 0;
  }
  const live = liveOutput(io, Boolean(flags.json));
  try {
    const report = verb === 'add' ? await addMember(options, { onEvent: live.onEvent, shouldStop: live.shouldStop }) : await removeMember(options, { onEvent: live.onEvent, shouldStop: live.shouldStop }, revoke);
    if (flags.json)
      io.out(
        `${JSON.stringify(
          {
            operation: report.plan.operation,
            member: name,
            complete: report.plan.nothingToDo || (report.outcome?.complete ?? false),
            stopped: report.outcome?.stopped ?? false,
            executed: report.outcome?.executed ?? [],
            members: report.members.map((m) => ({ id: m.idHex, name: m.name, isLearner: m.isLearner, peerURLs: m.peerURLs, clientURLs: m.clientURLs })),
            notes: report.plan.notes,
          },
          null,
          2,
        )}\n`,
      );
    else io.out(renderReport(report, resume));
    return 0;
  } finally {
    live.release();
  }
}
