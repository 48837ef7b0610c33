/**
 * `etcd-tls migrate`: take a running plaintext cluster to TLS member by member, with quorum and
 * client service kept throughout. Preview (preconditions + plan) first, then each step in turn:
 * restart the member (or hand its operator the runbook and wait), gate on the whole cluster being as
 * the plan says, record the step in DIR/migration.json.
 */
import { fail, isEtcdTlsError } from '../../errors.js';
import { readSpecFile } from '../../cluster/generate.js';
import { withDirectoryLock } from '../../store/lock.js';
import { layoutCluster, type ClusterLayout, type MemberLayout } from '../../cluster/layout.js';
import { logFileOf, restartMember } from '../../cluster/local.js';
import { etcdBinaryFor, exitedMember, firstOf, runPlan, unfinishedOperation, type Gate, type OpEvent, type OpStep, type StepContext, type StepRecord } from '../runner.js';
import { memberList, memberUpdate, type Member } from '../../etcd/gateway.js';
import { clientEndpoint, observeCluster } from './checks.js';
import { initialStages, memberNamed, planMigration, plaintextEndpoints, stagesAfter, type Stages } from './plan.js';
import { previewMigration, type MigrateOptions, type MigrationPreview } from './preview.js';
import { readMigrationState, statePath, writeMigrationState, type DoneStep, type MigrationState } from './state.js';

export { previewMigration, type MigrateOptions, type MigrationPreview } from './preview.js';

/** What a migration reports while it runs: the runner's events (migrate runs on the runner). */
export type MigrationEvent = OpEvent;

export interface MigrationHooks {
  onEvent?: (event: MigrationEvent) => void;
  /** Checked between steps (never between a member update and its restart): true stops the run. */
  shouldStop?: () => boolean;
}

export interface MigrationReport {
  preview: MigrationPreview;
  /** Steps this run carried out. */
  executed: DoneStep[];
  complete: boolean;
  /** Stopped early (--stop-after or shouldStop); migration.json says where. */
  stopped: boolean;
  durationMs: number;
  /** The member list at the end. */
  members: Member[];
  /** Where clients without certificates can still write. */
  plaintextEndpoints: string[];
}

const DEFAULT_STEP_TIMEOUT_MS = 60_000;
const DEFAULT_MANUAL_WAIT_MS = 30 * 60_000;

function refusal(preview: MigrationPreview): never {
  const failed = preview.checks.filter((c) => !c.ok);
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more; see --dry-run)` : '';
  throw fail('MIGRATION_REFUSED', `${failed[0]?.message ?? 'a precondition failed'}${more}`);
}

/**
 * Migrate the cluster of `options.spec` (generated in `options.out`) from http to https. Resumes a
 * migration recorded in DIR/migration.json. Throws MIGRATION_REFUSED (nothing changed) when a
 * precondition fails, MIGRATION_FAILED when a step does not converge (the state says where).
 *
 * @example
 *   const report = await migrateCluster({ spec: 'cluster.yaml', out: 'pki' }, { onEvent: console.log });
 *   report.complete; // true: every peer and client URL is https
 */
export async function migrateCluster(options: MigrateOptions, hooks: MigrationHooks = {}): Promise<MigrationReport> {
  // One run at a time per directory: two migrations would restart members under each other, and a
  // gen meanwhile would rewrite the configurations being rolled out (both fail with DIRECTORY_LOCKED).
  return withDirectoryLock(options.out, 'etcd-tls migrate', () => {
    // A rotation or member change half-done would have members restarted under it by the migration.
    const other = unfinishedOperation(options.out);
    if (other) throw fail('OPERATION_IN_PROGRESS', `${other.file}: ${other.state.operation} ${other.state.subject} is unfinished; finish it first`);
    return runMigration(options, hooks);
  });
}

async function runMigration(options: MigrateOptions, hooks: MigrationHooks): Promise<MigrationReport> {
  const started = Date.now();
  const preview = await previewMigration(options);
  if (!preview.ok) refusal(preview);
  const spec = readSpecFile(options.spec);
  const layout = layoutCluster(spec, { dir: options.out, local: preview.local });
  const { plan } = preview;
  const finish = (state: MigrationState | undefined, executed: DoneStep[], members: Member[], stopped: boolean): MigrationReport => {
    const done = new Set(state?.done.map((d) => d.id) ?? preview.done);
    const complete = preview.alreadyMigrated || plan.steps.every((s) => done.has(s.id));
    const stages = preview.alreadyMigrated ? initialStages(layout) : stagesAfter(layout, plan, done);
    return {
      preview,
      executed,
      complete,
      stopped,
      durationMs: Date.now() - started,
      members,
      plaintextEndpoints: preview.alreadyMigrated ? [] : plaintextEndpoints(layout, stages, plan.legacyClientPorts),
    };
  };
  if (preview.alreadyMigrated) return finish(undefined, [], [], false);

  const now = new Date().toISOString();
  let state: MigrationState = readMigrationState(options.out) ?? {
    version: 1,
    cluster: plan.cluster,
    legacyClientPorts: plan.legacyClientPorts,
    memberIds: preview.ids,
    managed: Object.keys(preview.managed),
    dropPlaintext: plan.dropPlaintext,
    done: [],
    startedAt: now,
    updatedAt: now,
  };
  if (plan.steps.some((s) => !state.done.some((d) => d.id === s.id))) {
    // New steps (e.g. --drop-plaintext after a finished run) reopen the migration.
    const { completedAt: _completed, ...rest } = state;
    state = { ...rest, dropPlaintext: plan.dropPlaintext, managed: [...new Set([...state.managed, ...Object.keys(preview.managed)])] };
  }

  const etcdPath = preview.steps.some((s) => s.managed) ? etcdBinaryFor(Object.values(preview.managed), options.etcdPath) : '';
  const source = new Map(plan.steps.map((s) => [s.id, s]));
  const doneIds = (s: StepRecord): Set<string> => new Set(s.done.map((d) => d.id));
  let members: Member[] = [];
  // The cluster as the stages say; the member list of the last look that matched is the report's.
  const gateAt =
    (stages: Stages): Gate =>
    async (skip) => {
      const o = await observeCluster(layout, stages, plan.legacyClientPorts, skip);
      if (o.problems.length > 0) return o.problems;
      if (!o.members) return ['no member answered'];
      members = o.members;
      return [];
    };
  // The preview's steps, and what etcd-tls runs for those it carries out itself.
  const steps: OpStep[] = preview.steps.map((s) => {
    const step = source.get(s.id);
    if (!step || !s.managed) return s;
    const m = memberNamed(layout, step.member);
    const run =
      step.kind === 'peer-update'
        ? async (ctx: StepContext): Promise<void> =>
            updatePeerUrl(layout, stagesAfter(layout, plan, doneIds(ctx.state)), m, preview.ids[m.name], step.peerUrl as string)
        : async (): Promise<number> => restartMember(m, step.environment ?? [], etcdPath);
    return { ...s, run };
  });

  const outcome = await runPlan<MigrationState>({
    stateFile: statePath(options.out),
    state,
    write: (s) => writeMigrationState(options.out, s),
    steps,
    resume: 'etcd-tls migrate',
    // The preview checked the whole cluster before the run (skipping a member a stopped run left
    // half-restarted); after that each step's gate is the next one's gate before.
    gateAfter: (step, s) => {
      const index = steps.indexOf(step);
      // An operator's runbook covers a member update and the restart after it: wait for both.
      const withNext = steps[index + 1]?.silent ? [step, steps[index + 1] as OpStep] : [step];
      const ids = doneIds(s);
      for (const x of withNext) ids.add(x.id);
      return gateAt(stagesAfter(layout, plan, ids));
    },
    notBack: (step, waited) => {
      const m = memberNamed(layout, step.member as string);
      const hint = step.managed
        ? `${m.name} was restarted for step ${step.id}; see ${logFileOf(m)}, fix the cause, then run migrate again to retry the step`
        : `carry out the runbook above for ${m.name}, then run migrate again`;
      const what = !waited.aborted ? firstOf(waited.problems) : step.managed ? waited.why : `stopped while waiting for ${m.name} (step ${step.id})`;
      return fail('MIGRATION_FAILED', `${what}; ${hint}`);
    },
    stepTimeoutMs: options.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS,
    manualWaitMs: options.manualWaitMs ?? DEFAULT_MANUAL_WAIT_MS,
    ...(options.stopAfter !== undefined ? { stopAfter: options.stopAfter } : {}),
    alive: exitedMember(layout.members),
    ...(hooks.onEvent ? { onEvent: hooks.onEvent } : {}),
    ...(hooks.shouldStop ? { shouldStop: hooks.shouldStop } : {}),
  });
  state = outcome.state;
  if (members.length === 0) {
    const o = await observeCluster(layout, stagesAfter(layout, plan, doneIds(state)), plan.legacyClientPorts);
    members = o.members ?? [];
  }
  return finish(state, outcome.executed, members, outcome.stopped);
}

/** `member update` through another member (the target's own port is about to go away); idempotent. */
async function updatePeerUrl(layout: ClusterLayout, stages: Stages, m: MemberLayout, idHex: string | undefined, peerUrl: string): Promise<void> {
  const others = [...layout.members.filter((x) => x.name !== m.name), m];
  let last = '';
  for (const via of others) {
    const ep = clientEndpoint(via, stages[via.name] ?? { client: 'http', peer: 'http' });
    try {
      const current = (await memberList(ep.url, ep.tls, 3000)).find((x) => x.name === m.name);
      if (!current || (idHex && current.idHex !== idHex)) throw fail('MIGRATION_FAILED', `${m.name}: not in the member list of ${via.name} with ID ${idHex ?? '?'}`);
      if (current.peerURLs.join(',') !== peerUrl) await memberUpdate(ep.url, current.id, [peerUrl], ep.tls, 5000);
      return;
    } catch (e) {
      if (isEtcdTlsError(e)) throw e;
      last = `${via.name}: ${(e as Error).message}`;
    }
  }
  throw fail('MIGRATION_FAILED', `${m.name}: member update to ${peerUrl} failed through every member (last: ${last}); run migrate again`);
}

/**
 * Where clients without a certificate can write right now, by DIR/migration.json: every client URL
 * over http before a migration starts, the plaintext ports from a member's phase 1 on, none after
 * phase 3. For scripts that move old clients along (and for the migration benchmark's writer).
 */
export function currentPlaintextEndpoints(layout: ClusterLayout, state: MigrationState | undefined = readMigrationState(layout.dir)): string[] {
  if (!state) return plaintextEndpoints(layout, initialStages(layout), {});
  const plan = planMigration(layout, { legacyPorts: state.legacyClientPorts, dropPlaintext: state.dropPlaintext });
  return plaintextEndpoints(layout, stagesAfter(layout, plan, new Set(state.done.map((d) => d.id))), state.legacyClientPorts);
}
