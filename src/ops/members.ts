/**
 * `member add` and `member remove` as plans for the runner, in the order etcd's runtime
 * reconfiguration guide requires: one member at a time; add as a learner through a running member
 * before the new member starts (with ETCD_INITIAL_CLUSTER_STATE=existing and the current member
 * list), start it, promote it once it has caught up; remove through another member, then stop it,
 * revoke its certificates and archive its folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fail, isEtcdTlsError } from '../errors.js';
import type { MemberLayout } from '../cluster/layout.js';
import { logFileOf, runningPid, spawnMember, stopMembers } from '../cluster/local.js';
import { etcdEnvironment, renderEtcdEnv, renderEtcdYaml } from '../cluster/render.js';
import { parseEtcdEnvFile } from '../etcd/config.js';
import { checkHealth, memberAdd, memberList, memberPromote, memberRemove, type Member } from '../etcd/gateway.js';
import { archivePath, PUBLIC_FILE_MODE, writeFilesAtomic } from '../store/files.js';
import { withDirectoryLock } from '../store/lock.js';
import { etcdctlCommand, gateFor, liveMembers, loadOpsCluster, managesMembers, memberOf, portInUse, type OpsCluster } from './cluster.js';
import {
  etcdBinaryFor,
  newOpState,
  readOpState,
  refuseOtherOperations,
  runPlan,
  stateFileOf,
  exitedMember,
  membershipGate,
  type Gate,
  type OpEvent,
  type OpState,
  type OpStep,
  type RunOutcome,
} from './runner.js';

export interface MemberOpOptions {
  spec: string;
  out: string;
  /** The member to add or remove. */
  name: string;
  /** The spec client to act with (default admin). */
  client?: string;
  /** Remove even though fewer than 3 members remain. */
  force?: boolean;
  /** Start and stop nothing, even members `etcd-tls up` runs: print each step for an operator. */
  manual?: boolean;
  stepTimeoutMs?: number;
  manualWaitMs?: number;
  stopAfter?: number;
  etcdPath?: string;
}

export interface MemberOpPlan {
  operation: 'member-add' | 'member-remove';
  name: string;
  cluster: string;
  dir: string;
  stateFile: string;
  steps: OpStep[];
  /** Step ids the state file records as done. */
  done: string[];
  /** Voting members before and after. */
  before: string[];
  after: string[];
  /** Nothing to do: the member is already in (add) or out (remove) and nothing is recorded unfinished. */
  nothingToDo: boolean;
  notes: string[];
  /** How `identity` acts: the admin client, or a member's server certificate. */
  identity: string;
}

export interface MemberOpReport {
  plan: MemberOpPlan;
  outcome?: RunOutcome;
  members: Member[];
}

const DEFAULT_STEP_TIMEOUT_MS = 90_000;
const DEFAULT_MANUAL_WAIT_MS = 30 * 60_000;

const quorumOf = (n: number): number => Math.floor(n / 2) + 1;
const sq = (v: string): string => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);
const hostOf = (url: string): string => new URL(url).hostname.replace(/^\[|\]$/g, '');
const rel = (p: string): string => path.relative(process.cwd(), p) || '.';

/** A call etcd refuses while the cluster settles (strict reconfig check): retried until the deadline. */
async function retrying<T>(what: string, timeoutMs: number, fn: () => Promise<T>, retryable: (msg: string) => boolean): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      const msg = (e as Error).message;
      if (isEtcdTlsError(e) || !retryable(msg) || Date.now() >= deadline) throw fail('MEMBER_NOT_BACK', `${what}: ${msg}`);
      await sleep(500);
    }
  }
}

function previousState(stateFile: string, op: 'member-add' | 'member-remove', name: string): OpState | undefined {
  const s = readOpState(stateFile);
  return s && !s.completedAt && s.operation === op && s.subject === name ? s : undefined;
}

/** The initial cluster a joiner must start with: every member the cluster lists, the joiner by its name. */
function joinList(list: readonly Member[], m: MemberLayout): string {
  return list
    .filter((x) => x.peerURLs.length > 0)
    .map((x) => `${x.peerURLs.includes(m.peerUrl) ? m.name : x.name}=${x.peerURLs[0]}`)
    .join(',');
}

/** Names in the spec's order, others after them by name. */
const bySpecOrder = (c: OpsCluster, names: readonly string[]): string[] => {
  const rank = (n: string): number => {
    const i = c.layout.members.findIndex((m) => m.name === n);
    return i === -1 ? c.layout.members.length : i;
  };
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
};


// ------------------------------------------------------------------------------------------------
// member add

export async function planMemberAdd(o: MemberOpOptions): Promise<{ plan: MemberOpPlan; c: OpsCluster; state: OpState }> {
  const c = loadOpsCluster(o.spec, o.out, o.client);
  const stateFile = stateFileOf(c.layout.dir, 'member-add');
  const m = memberOf(c, o.name);
  const gen = `\`etcd-tls gen ${o.spec} --out ${o.out}${c.layout.local ? ' --local' : ''}\``;
  if (!m) throw fail('OPERATION_REFUSED', `${o.spec}: has no member ${o.name}; add it to members and run ${gen} first`);
  if (!existsSync(m.files.env) || !existsSync(m.files.peerCert) || !existsSync(m.files.serverCert))
    throw fail('OPERATION_REFUSED', `${rel(m.dir)}: no certificates or etcd.env for ${o.name} yet; run ${gen} first`);
  const previous = previousState(stateFile, 'member-add', o.name);
  refuseOtherOperations(c.layout.dir, 'member-add', o.name, (s) => `run \`etcd-tls ${s.operation === 'rotate-ca' ? 'rotate-ca' : `member ${s.operation === 'member-add' ? 'add' : 'remove'} ${s.subject}`} --spec ${o.spec} --out ${o.out}\``);

  const others = c.layout.members.filter((x) => x.name !== o.name);
  const { list } = await liveMembers(c, others.map((x) => x.clientUrl));
  const voters = bySpecOrder(c, list.filter((x) => !x.isLearner && x.name !== o.name).map((x) => x.name || `(unstarted ${x.idHex})`));
  const already = list.find((x) => x.name === o.name && !x.isLearner);
  const mine = list.find((x) => x.peerURLs.includes(m.peerUrl));
  const notes: string[] = [];

  if (!previous && !already) {
    if (m.initialClusterState !== 'existing')
      throw fail('OPERATION_REFUSED', `${o.name}: ${rel(m.files.env)} bootstraps a new cluster (ETCD_INITIAL_CLUSTER_STATE=new), but the cluster runs without it; it was one of the founding members: start it with \`etcd-tls up\` instead`);
    // Another member (or a leftover learner that is not ours) already claims one of its addresses.
    const clash = list.find(
      (x) => x !== mine && (x.peerURLs.some((u) => hostOf(u) === hostOf(m.peerUrl) && new URL(u).port === new URL(m.peerUrl).port) || x.clientURLs.includes(m.clientUrl)),
    );
    if (clash) throw fail('ADDRESS_COLLISION', `${o.name}: ${m.peerUrl} is the address of member ${clash.name || clash.idHex} already in the cluster; give ${o.name} another address in ${o.spec}`);
    if (mine && (mine.name !== '' || !mine.isLearner))
      throw fail('ADDRESS_COLLISION', `${o.name}: ${m.peerUrl} is the peer URL of member ${mine.name || mine.idHex} already in the cluster; give ${o.name} another address in ${o.spec}`);
    if (runningPid(m) === undefined && managesMembers(c, o.manual)) {
      for (const url of [m.clientUrl, m.peerUrl]) {
        const u = new URL(url);
        if (await portInUse(hostOf(url), Number(u.port)))
          throw fail('ADDRESS_COLLISION', `${o.name}: ${u.host} is already in use by another process; stop it or give ${o.name} another address in ${o.spec}`);
      }
    }
    if (voters.length < 1) throw fail('QUORUM_AT_RISK', 'the cluster has no voting member to add through');
  }

  const managed = managesMembers(c, o.manual);
  const after = [...voters, o.name];
  const via = () => others.find((x) => list.some((l) => l.name === x.name))?.clientUrl ?? (list[0]?.clientURLs[0] as string);
  const currentList = async (): Promise<Member[]> => (await liveMembers(c, others.map((x) => x.clientUrl))).list;
  const host = m.spec.ips[0] ?? m.spec.dns[0] ?? o.name;
  const timeout = o.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;

  const steps: OpStep[] = [
    {
      id: `add-learner:${o.name}`,
      phase: 1,
      title: `${o.name}: member add --learner ${m.peerUrl} through a running member (the learner does not count toward quorum)`,
      member: o.name,
      managed: true,
      detail: [`etcd-tls calls member add (as a learner) with ${c.identityName}; etcd accepts it once every member has been connected for 5 s`],
      runbook: [`  ${etcdctlCommand(c, others[0]?.clientUrl ?? '', `member add ${o.name} --peer-urls=${m.peerUrl} --learner`)}`],
      run: async (ctx) => {
        const now = await currentList();
        const existing = now.find((x) => x.peerURLs.includes(m.peerUrl));
        if (existing) {
          ctx.remember('id', existing.id.toString(10));
          return;
        }
        const added = await retrying(`${o.name}: member add`, timeout, () => memberAdd(via(), [m.peerUrl], true, c.identity(), 5000), (msg) => /unhealthy cluster|not healthy|leader changed|timed out/i.test(msg));
        ctx.remember('id', added.id.toString(10));
      },
      observe: async () => ((await currentList()).some((x) => x.peerURLs.includes(m.peerUrl)) ? undefined : `${o.name} is not in the member list yet`),
    },
    {
      id: `start:${o.name}`,
      phase: 1,
      title: `${o.name}: start it with ETCD_INITIAL_CLUSTER_STATE=existing and the current member list`,
      member: o.name,
      managed,
      detail: [`etcd-tls writes the member list into ${rel(m.files.env)} if it changed, then starts etcd with it (log: ${rel(logFileOf(m))})`],
      runbook: c.layout.local
        ? [`start ${o.name}'s etcd with exactly the variables of ${m.files.env}, e.g.:`, `  (set -a; . ${sq(m.files.env)}; exec etcd) >>${sq(logFileOf(m))} 2>&1 &`]
        : [
            `copy ${rel(m.dir)} to ${o.name}'s host (${host}), install it and start etcd:`,
            `  scp -r ${sq(m.dir)} root@${host}:`,
            `  ssh root@${host} 'cd ${o.name} && sh install.sh && systemctl enable --now etcd'`,
          ],
      run: async () => {
        const live = await currentList();
        const patched = { ...m, initialCluster: joinList(live, m) };
        if (patched.initialCluster !== m.initialCluster)
          writeFilesAtomic([
            { path: m.files.env, data: renderEtcdEnv(c.layout, patched), mode: PUBLIC_FILE_MODE },
            { path: m.files.yaml, data: renderEtcdYaml(c.layout, patched), mode: PUBLIC_FILE_MODE },
          ]);
        const pid = runningPid(m);
        if (pid !== undefined) return pid;
        return spawnMember(m, etcdEnvironment(c.layout, patched), etcdBinaryFor([...c.managed.values()], o.etcdPath));
      },
      // A started member publishes its name; until then the learner is listed without one. Its client
      // port must answer too: raft over the peer port alone would let a member that serves no client be promoted.
      observe: async () => {
        if (!(await currentList()).some((x) => x.name === o.name)) return `${o.name} has not started and joined yet`;
        try {
          const h = await checkHealth(m.clientUrl, c.identity(), 2000);
          return h.healthy ? undefined : `${o.name}: ${m.clientUrl}/health answered ${h.body.trim() || '(nothing)'}`;
        } catch (e) {
          return `${o.name}: ${(e as Error).message}`;
        }
      },
      noGateAfter: true,
    },
    {
      id: `promote:${o.name}`,
      phase: 1,
      title: `${o.name}: promote the learner to a voting member once it has caught up with the leader`,
      member: o.name,
      managed: true,
      detail: ['etcd-tls calls member promote until etcd accepts it (it refuses while the learner lags behind)'],
      runbook: [],
      run: async (ctx) => {
        const now = await currentList();
        const me = now.find((x) => x.peerURLs.includes(m.peerUrl));
        if (!me) throw fail('MEMBER_NOT_BACK', `${o.name} is no longer in the member list; run member add again`);
        if (me.isLearner) {
          ctx.remember('id', me.id.toString(10));
          await retrying(`${o.name}: member promote`, timeout, () => memberPromote(via(), me.id, c.identity(), 5000), (msg) => /in sync|not ready|unhealthy|not healthy|leader changed|timed out|too many/i.test(msg));
        }
      },
      observe: async () => ((await currentList()).some((x) => x.name === o.name && !x.isLearner) ? undefined : `${o.name} is still a learner`),
    },
  ];
  const state = previous ?? newOpState('member-add', c.layout.cluster, o.name);
  const plan: MemberOpPlan = {
    operation: 'member-add',
    name: o.name,
    cluster: c.layout.cluster,
    dir: c.layout.dir,
    stateFile,
    steps,
    done: state.done.map((d) => d.id),
    before: voters,
    after,
    nothingToDo: !!already && !previous,
    notes,
    identity: c.identityName,
  };
  return { plan, c, state };
}

// ------------------------------------------------------------------------------------------------
// member remove

/** The removed member's URLs, from the spec or (once it left the spec) from its etcd.env. */
function removedMemberUrls(c: OpsCluster, name: string): { clientUrl?: string; peerUrl?: string; dir: string } {
  const m = memberOf(c, name);
  if (m) return { clientUrl: m.clientUrl, peerUrl: m.peerUrl, dir: m.dir };
  const dir = path.join(c.layout.dir, 'nodes', name);
  const env = path.join(dir, 'etcd.env');
  if (!existsSync(env)) return { dir };
  const settings = new Map(parseEtcdEnvFile(readFileSync(env, 'utf8'), env).settings.map((s) => [s.flag, s.value]));
  const clientUrl = settings.get('advertise-client-urls')?.split(',')[0];
  const peerUrl = settings.get('initial-advertise-peer-urls')?.split(',')[0];
  return { dir, ...(clientUrl ? { clientUrl } : {}), ...(peerUrl ? { peerUrl } : {}) };
}

/** Revocation of a removed member's certificates (the lifecycle use case), resolved at run time. */
export type RevokeMember = (dir: string, member: string) => Promise<string>;

export async function planMemberRemove(o: MemberOpOptions, revokeMember?: RevokeMember): Promise<{ plan: MemberOpPlan; c: OpsCluster; state: OpState }> {
  const c = loadOpsCluster(o.spec, o.out, o.client);
  const stateFile = stateFileOf(c.layout.dir, 'member-remove');
  const previous = previousState(stateFile, 'member-remove', o.name);
  refuseOtherOperations(c.layout.dir, 'member-remove', o.name, (s) => `run \`etcd-tls ${s.operation === 'rotate-ca' ? 'rotate-ca' : `member ${s.operation === 'member-add' ? 'add' : 'remove'} ${s.subject}`} --spec ${o.spec} --out ${o.out}\``);
  const target = removedMemberUrls(c, o.name);
  const ref = { name: o.name, dir: target.dir };
  const others = c.layout.members.filter((x) => x.name !== o.name);
  const { list } = await liveMembers(c, others.map((x) => x.clientUrl));
  const inCluster = list.find((x) => x.name === o.name || (target.peerUrl !== undefined && x.peerURLs.includes(target.peerUrl)));
  const voters = bySpecOrder(c, list.filter((x) => !x.isLearner).map((x) => x.name || `(unstarted ${x.idHex})`));
  const remaining = voters.filter((n) => n !== o.name);
  const notes: string[] = [];
  if (memberOf(c, o.name)) notes.push(`${o.name} is still in ${o.spec}: remove it there too, or the next gen issues it new certificates and a joining configuration`);

  // Removing without revoking would leave the member's certificates able to rejoin: refuse up front.
  if (!revokeMember && !previous?.done.some((d) => d.id === `revoke:${o.name}`))
    throw fail('REVOCATION_UNAVAILABLE', `${o.name}: this build cannot revoke certificates yet, so removing it would leave its server and peer certificates valid to rejoin; nothing was changed`);
  if (!inCluster && !previous && !existsSync(target.dir))
    throw fail('OPERATION_REFUSED', `${o.name}: neither in the cluster's member list (${voters.join(', ')}) nor in ${rel(path.join(c.layout.dir, 'nodes'))}`);
  if (inCluster && !previous) {
    if (remaining.length === 0) throw fail('QUORUM_AT_RISK', `${o.name} is the cluster's last member; removing it would end the cluster (stop it with \`etcd-tls down\` instead)`);
    // Every remaining member must answer: removing one while another is down can leave no quorum.
    const gateMembers = gateFor(c, list, remaining);
    const { observeGate } = await import('./runner.js');
    const seen = await observeGate({ members: gateMembers, voters }, o.name);
    const down = remaining.filter((n) => seen.problems.some((p) => p.startsWith(`${n}:`) || p.startsWith(`${n} `)));
    if (remaining.length - down.length < quorumOf(remaining.length))
      throw fail('QUORUM_AT_RISK', `removing ${o.name} leaves ${remaining.length} member(s) of which only ${remaining.length - down.length} answer (${down.join(', ')} down): no quorum of ${quorumOf(remaining.length)}; bring ${down[0]} back first`);
    if (remaining.length < 3 && !o.force)
      throw fail('QUORUM_AT_RISK', `removing ${o.name} leaves ${remaining.length} voting member(s): a cluster of ${remaining.length} stops at its first failure; add a member first, or pass --force`);
  }

  const managed = !o.manual && (runningPid(ref) !== undefined || (c.managed.size > 0 && c.layout.local));
  const timeout = o.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  const currentList = async (): Promise<Member[]> => (await liveMembers(c, others.map((x) => x.clientUrl))).list;
  const findTarget = (l: readonly Member[]): Member | undefined => l.find((x) => x.name === o.name || (target.peerUrl !== undefined && x.peerURLs.includes(target.peerUrl)));
  const stamp = previous?.data.archive ?? new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const archive = path.join(c.layout.dir, 'archive', 'members', `${o.name}-${stamp}`);
  const via = (): string => others.find((x) => list.some((l) => l.name === x.name))?.clientUrl ?? (list.find((l) => l.name !== o.name)?.clientURLs[0] as string);

  const steps: OpStep[] = [
    {
      id: `remove:${o.name}`,
      phase: 1,
      title: `${o.name}: member remove through another member (${remaining.length} voting members remain, quorum ${quorumOf(remaining.length)})`,
      member: o.name,
      managed: true,
      detail: [`etcd-tls calls member remove ${inCluster?.idHex ?? previous?.data.id ?? '<ID>'} with ${c.identityName}`],
      runbook: [`  ${etcdctlCommand(c, via() ?? '', `member remove ${inCluster?.idHex ?? '<ID>'}`)}`],
      run: async (ctx) => {
        const now = findTarget(await currentList());
        if (!now) return;
        ctx.remember('id', now.idHex);
        await retrying(`${o.name}: member remove`, timeout, () => memberRemove(via(), now.id, c.identity(), 5000), (msg) => /unhealthy|not healthy|leader changed|timed out|not enough started/i.test(msg));
      },
      observe: async () => (findTarget(await currentList()) ? `${o.name} is still in the member list` : undefined),
    },
    {
      id: `stop:${o.name}`,
      phase: 1,
      title: `${o.name}: stop it (etcd 3.4 shuts a removed member down itself; this keeps it from starting again)`,
      member: o.name,
      managed,
      detail: [`etcd-tls stops the etcd process of ${rel(target.dir)}/etcd.pid, if it still runs`],
      runbook: c.layout.local
        ? [`stop ${o.name}'s etcd process (it logs "the member has been permanently removed from the cluster")`]
        : [`on ${o.name}'s host: systemctl disable --now etcd   # and keep its data directory until you are sure`],
      run: async () => {
        await stopMembers([ref]);
      },
      observe: async () => {
        if (runningPid(ref) !== undefined) return `${o.name} still runs`;
        if (target.clientUrl && (await portInUse(hostOf(target.clientUrl), Number(new URL(target.clientUrl).port), 500))) return `${target.clientUrl} still answers`;
        return undefined;
      },
      noGateAfter: true,
    },
    {
      id: `revoke:${o.name}`,
      phase: 1,
      title: `${o.name}: revoke its server and peer certificates (the CRL every member reads refuses them)`,
      member: o.name,
      managed: true,
      detail: revokeMember ? ['etcd-tls revokes both certificates and rewrites the CRL in DIR'] : ['revocation is not available in this build: the step fails with REVOCATION_UNAVAILABLE'],
      runbook: [],
      run: async (ctx) => {
        if (!revokeMember)
          throw fail('REVOCATION_UNAVAILABLE', `${o.name}: this build cannot revoke certificates yet, so ${o.name}'s server and peer certificates stay valid; the member is removed and stopped, its folder ${rel(target.dir)} is kept (state in ${rel(stateFile)})`);
        ctx.remember('revoked', await revokeMember(c.layout.dir, o.name));
      },
      noGateAfter: true,
    },
    {
      id: `archive:${o.name}`,
      phase: 1,
      title: `${o.name}: archive its folder to ${rel(archive)}`,
      member: o.name,
      managed: true,
      detail: [`etcd-tls moves ${rel(target.dir)} (keys, configuration, data when it ran here) to ${rel(archive)}`],
      runbook: [],
      run: async (ctx) => {
        ctx.remember('archive', stamp);
        if (existsSync(target.dir)) archivePath(target.dir, archive);
      },
      noGateAfter: true,
    },
  ];
  const state = previous ?? newOpState('member-remove', c.layout.cluster, o.name, { archive: stamp });
  return {
    plan: {
      operation: 'member-remove',
      name: o.name,
      cluster: c.layout.cluster,
      dir: c.layout.dir,
      stateFile,
      steps,
      done: state.done.map((d) => d.id),
      before: voters,
      after: remaining,
      nothingToDo: !inCluster && !previous && !existsSync(target.dir),
      notes,
      identity: c.identityName,
    },
    c,
    state,
  };
}

// ------------------------------------------------------------------------------------------------
// Running either

export interface MemberOpHooks {
  onEvent?: (e: OpEvent) => void;
  shouldStop?: () => boolean;
}

async function execute(
  o: MemberOpOptions,
  planned: { plan: MemberOpPlan; c: OpsCluster; state: OpState },
  hooks: MemberOpHooks,
  verb: 'add' | 'remove',
): Promise<MemberOpReport> {
  const { plan, c, state } = planned;
  if (plan.nothingToDo) return { plan, members: [] };
  const gateList = (await liveMembers(c, c.layout.members.map((x) => x.clientUrl))).list;
  const expect = (voting: readonly string[], learner?: string): Gate =>
    membershipGate({ members: gateFor(c, gateList, voting), voters: voting, ...(learner ? { learner } : {}) });
  const resume = `etcd-tls member ${verb} ${o.name} --spec ${o.spec} --out ${o.out}`;
  const outcome = await runPlan({
    stateFile: plan.stateFile,
    state,
    steps: plan.steps,
    resume,
    gateBefore: (step) =>
      verb === 'add'
        ? step.id.startsWith('add-learner') ? expect(plan.before) : expect(plan.before, o.name)
        : step.id.startsWith('remove') ? membershipGate({ members: gateFor(c, gateList, plan.before.filter((n) => n !== o.name)), voters: plan.before }) : expect(plan.after),
    gateAfter: (step) => (verb === 'add' ? (step.id.startsWith('promote') ? expect(plan.after) : expect(plan.before, o.name)) : expect(plan.after)),
    stepTimeoutMs: o.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS,
    manualWaitMs: o.manualWaitMs ?? DEFAULT_MANUAL_WAIT_MS,
    ...(o.stopAfter !== undefined ? { stopAfter: o.stopAfter } : {}),
    alive: exitedMember(c.layout.members),
    ...(hooks.onEvent ? { onEvent: hooks.onEvent } : {}),
    ...(hooks.shouldStop ? { shouldStop: hooks.shouldStop } : {}),
  });
  let members: Member[] = [];
  try {
    members = await memberList(via(c, o.name), c.identity(), 3000);
  } catch {
    // the outcome stands; the list is only for display
  }
  return { plan, outcome, members };
}

const via = (c: OpsCluster, not: string): string => c.layout.members.find((m) => m.name !== not)?.clientUrl ?? '';

/**
 * Add spec member `name` to the running cluster: learner, start, promote.
 *
 * @example
 *   await addMember({ spec: 'cluster.yaml', out: 'pki', name: 'member4' });
 */
export async function addMember(o: MemberOpOptions, hooks: MemberOpHooks = {}): Promise<MemberOpReport> {
  return withDirectoryLock(o.out, `etcd-tls member add ${o.name}`, async () => execute(o, await planMemberAdd(o), hooks, 'add'));
}

/** Remove member `name`: member remove, stop, revoke, archive. */
export async function removeMember(o: MemberOpOptions, hooks: MemberOpHooks = {}, revokeMember?: RevokeMember): Promise<MemberOpReport> {
  return withDirectoryLock(o.out, `etcd-tls member remove ${o.name}`, async () => execute(o, await planMemberRemove(o, revokeMember), hooks, 'remove'));
}
