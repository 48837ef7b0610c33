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
import { logFileOf, logTail, restartMember, runningPid } from '../../cluster/local.js';
import { etcdBinaryFor, unfinishedOperation } from '../runner.js';
import { memberList, memberUpdate, type Member } from '../../etcd/gateway.js';
import { clientEndpoint, observeCluster, waitForCluster } from './checks.js';
import {
  applyStep,
  initialStages,
  memberNamed,
  planMigration,
  plaintextEndpoints,
  stagesAfter,
  type MigrationStep,
  type Stages,
} from './plan.js';
import { previewMigration, type MigrateOptions, type MigrationPreview } from './preview.js';
import { readMigrationState, recordStep, writeMigrationState, type DoneStep, type MigrationState } from './state.js';

export { previewMigration, type MigrateOptions, type MigrationPreview } from './preview.js';

export type MigrationEvent =
  | { type: 'step'; index: number; total: number; step: MigrationStep; managed: boolean; pid?: number }
  | { type: 'runbook'; step: MigrationStep; lines: string[] }
  | { type: 'step-done'; index: number; total: number; step: MigrationStep; ms: number; pid?: number }
  | { type: 'waiting'; step: MigrationStep; problems: readonly string[] };

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
  const more = plan.steps.some((s) => !state.done.some((d) => d.id === s.id));
  if (more) {
    // New steps (e.g. --drop-plaintext after a finished run) reopen the migration.
    const { completedAt: _completed, ...rest } = state;
    state = { ...rest, dropPlaintext: plan.dropPlaintext, managed: [...new Set([...state.managed, ...Object.keys(preview.managed)])] };
    writeMigrationState(options.out, state);
  }

  const isManaged = (name: string): boolean => !options.manual && state.managed.includes(name);
  const etcdPath = plan.steps.some((s) => isManaged(s.member)) ? etcdBinaryFor(Object.values(preview.managed), options.etcdPath) : '';
  const done = new Set(state.done.map((d) => d.id));
  const executed: DoneStep[] = [];
  let members: Member[] = [];
  const total = plan.steps.length;
  const record = (step: MigrationStep, extra: Omit<DoneStep, 'id' | 'at'>): void => {
    state = recordStep(state, { id: step.id, ...extra });
    done.add(step.id);
    executed.push(state.done[state.done.length - 1] as DoneStep);
    writeMigrationState(options.out, state);
  };
  const wait = async (step: MigrationStep, stages: Stages, m: MemberLayout, how: 'restart' | 'runbook', pid?: number): Promise<Member[]> =>
    waitForCluster(layout, stages, plan.legacyClientPorts, {
      timeoutMs: how === 'restart' ? (options.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS) : (options.manualWaitMs ?? DEFAULT_MANUAL_WAIT_MS),
      onWait: (problems) => hooks.onEvent?.({ type: 'waiting', step, problems }),
      abort:
        pid !== undefined
          ? () => (runningPid(m) === pid ? undefined : `${m.name}: etcd (pid ${pid}) exited; last lines of ${logFileOf(m)}:\n${logTail(m)}`)
          : // Nothing is half-done while an operator has the runbook: Ctrl-C may end the wait at once.
            () => (hooks.shouldStop?.() ? `stopped while waiting for ${m.name} (step ${step.id})` : undefined),
      hint:
        how === 'restart'
          ? `${m.name} was restarted for step ${step.id}; see ${logFileOf(m)}, fix the cause, then run migrate again to retry the step`
          : `carry out the runbook above for ${m.name}, then run migrate again`,
    });

  let ranThisRun = 0;
  for (let index = 0; index < plan.steps.length; index++) {
    const step = plan.steps[index] as MigrationStep;
    if (done.has(step.id)) continue;
    if (options.stopAfter !== undefined && ranThisRun >= options.stopAfter) return finish(state, executed, members, true);
    if (step.kind !== 'peer-restart' && hooks.shouldStop?.()) return finish(state, executed, members, true);
    const m = memberNamed(layout, step.member);
    const t0 = Date.now();
    const stagesBefore = stagesAfter(layout, plan, done);
    const after = applyStep(stagesBefore, step);
    const managed = isManaged(m.name);
    hooks.onEvent?.({ type: 'step', index: index + 1, total, step, managed, ...(preview.managed[m.name] ? { pid: preview.managed[m.name] } : {}) });

    if (step.kind === 'peer-update' && !managed) {
      // The operator runs the member update and the restart together; both are confirmed at once.
      const restart = plan.steps[index + 1] as MigrationStep;
      hooks.onEvent?.({ type: 'runbook', step, lines: step.runbook });
      members = await wait(step, applyStep(after, restart), m, 'runbook');
      record(step, { ms: Date.now() - t0 });
      record(restart, { ms: Date.now() - t0 });
      ranThisRun += 2;
      index++;
      hooks.onEvent?.({ type: 'step-done', index: index + 1, total, step: restart, ms: Date.now() - t0 });
      continue;
    }
    if (step.kind === 'peer-update') {
      await updatePeerUrl(layout, stagesBefore, m, preview.ids[m.name], step.peerUrl as string);
      record(step, { ms: Date.now() - t0 });
    } else if (managed) {
      const pid = await restartMember(m, step.environment ?? [], etcdPath);
      members = await wait(step, after, m, 'restart', pid);
      record(step, { ms: Date.now() - t0, pid });
    } else {
      hooks.onEvent?.({ type: 'runbook', step, lines: step.runbook });
      members = await wait(step, after, m, 'runbook');
      record(step, { ms: Date.now() - t0 });
    }
    ranThisRun++;
    hooks.onEvent?.({ type: 'step-done', index: index + 1, total, step, ms: Date.now() - t0, ...(executed.at(-1)?.pid ? { pid: executed.at(-1)?.pid } : {}) });
  }
  if (executed.length > 0 || !state.completedAt) {
    state = { ...state, completedAt: new Date().toISOString() };
    writeMigrationState(options.out, state);
  }
  if (members.length === 0) {
    const o = await observeCluster(layout, stagesAfter(layout, plan, done), plan.legacyClientPorts);
    members = o.members ?? [];
  }
  return finish(state, executed, members, false);
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
