/**
 * The runner of live operations: one plan (an ordered list of steps) carried out against a running
 * cluster, one step at a time, behind a health gate before and after each step, with what is done
 * recorded in a state file after every step so a run that stops (Ctrl-C, SIGKILL, --stop-after, a
 * member that does not come back) resumes where it stopped. Member add/remove and rotate-ca are plans
 * for it; each step is either carried out by etcd-tls (members `etcd-tls up` started) or handed to an
 * operator as a runbook and confirmed by observing the cluster.
 */
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { fail, isEtcdTlsError } from '../errors.js';
import type { MemberLayout } from '../cluster/layout.js';
import { ETCD_INSTALL_HINT, findEtcd, logFileOf, logTail, runningPid } from '../cluster/local.js';
import { checkHealth, memberList, type ClientTls, type Member } from '../etcd/gateway.js';
import { PUBLIC_FILE_MODE, readTextFile, writeFileAtomic } from '../store/files.js';

export type OperationName = 'member-add' | 'member-remove' | 'rotate-ca';

export interface OpStep {
  /** Stable across runs (`trust-both:member1`): the state file records these. */
  id: string;
  /** Plan phase, for grouping in output (1-based). */
  phase: number;
  /** One line for people. */
  title: string;
  /** The member the step acts on: on a resumed run it may be down or half-restarted, so the gate before it skips it. */
  member?: string;
  /** True when etcd-tls carries the step out itself; false: an operator runs `runbook`, etcd-tls waits for `observe`. */
  managed: boolean;
  /** What etcd-tls does (managed) — printed by --dry-run. */
  detail: string[];
  /** What an operator runs (unmanaged), in order. */
  runbook: string[];
  /** Carry the step out (managed). Returns the PID of a member it (re)started, if any. */
  run?: (ctx: StepContext) => Promise<number | void>;
  /**
   * Whether the step's effect is visible: undefined when it is, else what is still missing. Waited on
   * after `run` (or the runbook), together with the health gate.
   */
  observe?: () => Promise<string | undefined>;
  /** Skip the health gate after this step (e.g. a learner's start, confirmed by the next step). */
  noGateAfter?: boolean;
  /** A step no probe can confirm (clients restarted elsewhere): the run stops there until --confirm NAME. */
  confirmation?: string;
  /** Follows the step before at once: Ctrl-C never stops between them (e.g. a member cut off from its peers until it restarts). */
  noStopBefore?: boolean;
  /** Carried out by the runbook of the step before: no events (no line in the output) of its own. */
  silent?: boolean;
}

export interface StepContext {
  state: StepRecord;
  /** Persist extra data (an ID the cluster assigned) with the state before the step completes. */
  remember(key: string, value: string): void;
}

export interface DoneStep {
  id: string;
  at: string;
  ms?: number;
  pid?: number;
}

/**
 * What the runner keeps in a state file: the steps done and the one under way. Each operation's state
 * adds its own fields (OpState for member changes and rotate-ca; migrate's own, older format).
 */
export interface StepRecord {
  done: DoneStep[];
  /** The step started last and not recorded done: its member may be anywhere in between. */
  current?: string;
  /** Values the plan needs again on resume (see StepContext.remember). */
  data?: Record<string, string>;
  updatedAt: string;
  completedAt?: string;
}

export interface OpState extends StepRecord {
  version: 1;
  operation: OperationName;
  cluster: string;
  /** What the operation is about: the member's name for member ops, the new CA's fingerprint for rotate-ca. */
  subject: string;
  /** Values the plan needs again on resume (a member ID, the archive folder). */
  data: Record<string, string>;
  startedAt: string;
}

const stateSchema = z.strictObject({
  version: z.literal(1),
  operation: z.enum(['member-add', 'member-remove', 'rotate-ca']),
  cluster: z.string(),
  subject: z.string(),
  data: z.record(z.string(), z.string()),
  done: z.array(z.strictObject({ id: z.string(), at: z.string(), ms: z.number().optional(), pid: z.int().optional() })),
  current: z.string().optional(),
  startedAt: z.string(),
  updatedAt: z.string(),
  completedAt: z.string().optional(),
});

/** Where each operation records its progress in DIR. */
export const STATE_FILES: Readonly<Record<OperationName | 'migrate', string>> = {
  'member-add': 'membership.json',
  'member-remove': 'membership.json',
  'rotate-ca': 'rotation.json',
  migrate: 'migration.json',
};

export const stateFileOf = (dir: string, op: OperationName): string => path.join(path.resolve(dir), STATE_FILES[op]);

/**
 * A state file read strictly: undefined when absent; BAD_JSON or BAD_FIELD naming the file (and the
 * field) when damaged, never a fresh start. `what` names the operation it records.
 */
export function readStateFile<T>(file: string, schema: z.ZodType<T>, what: string): T | undefined {
  if (!existsSync(file)) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(readTextFile(file, `${what} state`));
  } catch (e) {
    if (isEtcdTlsError(e)) throw e;
    throw fail('BAD_JSON', `${file}: not valid JSON (${(e as Error).message}); it records an unfinished ${what}: repair it or move it away`);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw fail('BAD_FIELD', `${file}: ${issue?.path.join('.') || '(top level)'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** A state file written atomically (readable by anyone: it holds no secret). */
export function writeStateFile(file: string, state: StepRecord): void {
  writeFileAtomic({ path: file, data: `${JSON.stringify(state, null, 2)}\n`, mode: PUBLIC_FILE_MODE });
}

export const readOpState = (file: string): OpState | undefined => readStateFile(file, stateSchema, 'operation') as OpState | undefined;

export const writeOpState = (file: string, state: OpState): void => writeStateFile(file, state);

/** An unfinished migration's state file says nothing of completion until it ends: read it loosely. */
function unfinishedMigration(dir: string): boolean {
  const file = path.join(path.resolve(dir), STATE_FILES.migrate);
  if (!existsSync(file)) return false;
  try {
    return !(JSON.parse(readFileSync(file, 'utf8')) as { completedAt?: string }).completedAt;
  } catch {
    return true;
  }
}

/** The rotation or member change recorded unfinished in DIR, if any. */
export function unfinishedOperation(dir: string): { file: string; state: OpState } | undefined {
  for (const op of ['rotate-ca', 'member-add'] as const) {
    const file = stateFileOf(dir, op);
    const state = readOpState(file);
    if (state && !state.completedAt) return { file, state };
  }
  return undefined;
}

/**
 * Refuse to start `op` while another operation is recorded unfinished in DIR (the lock only covers a
 * run in progress; this covers one that stopped half-way and waits to be resumed).
 */
export function refuseOtherOperations(dir: string, op: OperationName, subject: string, resumeHint: (other: OpState) => string): void {
  if (unfinishedMigration(dir))
    throw fail('OPERATION_IN_PROGRESS', `${path.join(dir, STATE_FILES.migrate)}: a migration is unfinished; run \`etcd-tls migrate\` to finish it first`);
  for (const other of ['rotate-ca', 'member-add'] as const) {
    const file = stateFileOf(dir, other);
    const s = readOpState(file);
    if (!s || s.completedAt) continue;
    if (s.operation === op && s.subject === subject) continue;
    if (other === 'rotate-ca' && op === 'rotate-ca') continue;
    throw fail('OPERATION_IN_PROGRESS', `${file}: ${s.operation} ${s.subject} is unfinished (${s.done.length} step(s) done); ${resumeHint(s)} first`);
  }
}

/** The etcd binary a member runs now (members are restarted with it), else the first on PATH. */
export function etcdBinaryFor(pids: readonly number[], explicit?: string): string {
  if (explicit) return explicit;
  for (const pid of pids) {
    try {
      return readlinkSync(`/proc/${pid}/exe`);
    } catch {
      // another user's process, or gone
    }
  }
  const found = findEtcd();
  if (!found) throw fail('ETCD_NOT_FOUND', `no etcd binary on PATH to start members with; ${ETCD_INSTALL_HINT}`);
  return found;
}

/** Why a member (re)started with PID is no longer running, for RunOptions.alive; undefined while it runs. */
export function exitedMember(members: readonly MemberLayout[]): (name: string, pid: number) => string | undefined {
  return (name, pid) => {
    const m = members.find((x) => x.name === name);
    return m && runningPid(m) !== pid ? `${name}: etcd (pid ${pid}) exited; its last log line: ${logTail(m, 1)} (see ${logFileOf(m)})` : undefined;
  };
}

// ------------------------------------------------------------------------------------------------
// The health gate

/** One look at the cluster: what is not as expected (empty: as expected). `skip`: a member not to probe. */
export type Gate = (skip?: string) => Promise<string[]>;

export interface GateMember {
  name: string;
  clientUrl: string;
  /** Read afresh for every probe: an operation changes these files. */
  tls: () => ClientTls;
}

export interface GateExpectation {
  members: readonly GateMember[];
  /** The names every member list must show as voters, exactly. */
  voters: readonly string[];
  /** A learner allowed in the list (a member being added). */
  learner?: string;
}

const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Look at the cluster once: every listed member healthy, every member list as expected. */
export async function observeGate(g: GateExpectation, skip?: string): Promise<{ problems: string[]; list?: Member[] }> {
  let list: Member[] | undefined;
  const want = [...g.voters].sort().join(',');
  const results = await Promise.all(
    g.members
      .filter((m) => m.name !== skip)
      .map(async (m): Promise<string[]> => {
        let tls: ClientTls;
        try {
          tls = m.tls();
        } catch (e) {
          return [`${m.name}: ${reason(e)}`];
        }
        const problems: string[] = [];
        try {
          const h = await checkHealth(m.clientUrl, tls, 2000);
          if (!h.healthy) problems.push(`${m.name}: ${m.clientUrl}/health answered ${h.body.trim() || '(nothing)'}`);
        } catch (e) {
          problems.push(`${m.name}: ${reason(e)}`);
          return problems;
        }
        try {
          const l = await memberList(m.clientUrl, tls, 2000);
          const voters = l.filter((x) => !x.isLearner).map((x) => x.name || `(unstarted ${x.idHex})`).sort().join(',');
          const learners = l.filter((x) => x.isLearner && x.name !== (g.learner ?? '') && !(g.learner && x.name === ''));
          if (voters !== want) problems.push(`${m.name}: lists the voting members ${voters || '(none)'}, expected ${want}`);
          else if (learners.length > 0) problems.push(`${m.name}: lists an unexpected learner ${learners[0]?.name || learners[0]?.idHex}`);
          else list ??= l;
        } catch (e) {
          problems.push(`${m.name} member list: ${reason(e)}`);
        }
        return problems;
      }),
  );
  const problems = results.flat();
  return { problems, ...(list ? { list } : {}) };
}

/** The gate of member changes and rotate-ca: every member healthy, every member list as expected. */
export const membershipGate =
  (g: GateExpectation): Gate =>
  async (skip) =>
    (await observeGate(g, skip)).problems;

export interface WaitOptions {
  timeoutMs: number;
  onWait?: (problems: readonly string[]) => void;
  /** Give up at once when this returns a reason (the restarted process exited). */
  abort?: () => string | undefined;
}

export type WaitResult = { ok: true } | { ok: false; problems: string[]; why: string; aborted: boolean };

/** Poll `probe` (problems; empty = as expected) until it is empty; returns the last problems on timeout/abort. */
export async function waitFor(probe: () => Promise<string[]>, options: WaitOptions): Promise<WaitResult> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const problems = await probe();
    if (problems.length === 0) return { ok: true };
    const aborted = options.abort?.();
    if (aborted) return { ok: false, problems, why: aborted, aborted: true };
    if (Date.now() >= deadline) return { ok: false, problems, why: `not within ${Number((options.timeoutMs / 1000).toFixed(1))} s`, aborted: false };
    options.onWait?.(problems);
    await sleep(250);
  }
}

/** Error messages are one line: a log excerpt or a server's answer must not break it. */
export const oneLine = (text: string): string => text.replace(/[\0-\x1f\x7f]+/g, ' | ').trim();

export const firstOf = (problems: readonly string[]): string => oneLine(`${problems[0] ?? 'no member answered'}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`);

// ------------------------------------------------------------------------------------------------
// Running a plan

export type OpEvent =
  | { type: 'step'; index: number; total: number; step: OpStep }
  | { type: 'runbook'; step: OpStep; lines: string[] }
  | { type: 'waiting'; step: OpStep; problems: readonly string[] }
  | { type: 'step-done'; index: number; total: number; step: OpStep; ms: number; pid?: number };

export interface RunOptions<S extends StepRecord = OpState> {
  stateFile: string;
  /** The state to start from (read or fresh); written before the first step and after every change. */
  state: S;
  /** How the state is written (default: writeOpState to stateFile). */
  write?: (state: S) => void;
  steps: readonly OpStep[];
  /**
   * The gate before a step and after it, by the cluster as the plan expects it then (`state`: the steps
   * done before this one). No gate before: the caller checked the cluster before the run, and each
   * step's gate after is the next one's gate before.
   */
  gateBefore?: (step: OpStep, state: S) => Gate;
  gateAfter: (step: OpStep, state: S) => Gate;
  /** The error of a step whose effect did not show (default: MEMBER_NOT_BACK naming the state file and `resume`). */
  notBack?: (step: OpStep, wait: Extract<WaitResult, { ok: false }>) => Error;
  /** The command that resumes, for messages. */
  resume: string;
  stopAfter?: number;
  /** Stop once every step of this phase (and the ones before) is done. */
  stopAfterPhase?: number;
  /** Confirmations given on this command line (--confirm NAME). */
  confirmed?: readonly string[];
  stepTimeoutMs: number;
  manualWaitMs: number;
  /** Whether a restarted PID still runs (to stop waiting at once when it exited). */
  alive?: (member: string, pid: number) => string | undefined;
  onEvent?: (e: OpEvent) => void;
  shouldStop?: () => boolean;
}

export interface RunOutcome<S extends StepRecord = OpState> {
  state: S;
  executed: DoneStep[];
  complete: boolean;
  /** Stopped before the end: --stop-after, Ctrl-C, or a confirmation this run did not have. */
  stopped: boolean;
  /** The confirmation the run stopped at, if any. */
  awaiting?: OpStep;
}

/**
 * Carry out every step not yet done, in order. Before a step every member must be healthy and agree
 * on the member list (MEMBER_UNHEALTHY names the first that is not; nothing of the step was done);
 * after it the same must hold again within the timeout (MEMBER_NOT_BACK, state saved).
 */
export async function runPlan<S extends StepRecord = OpState>(o: RunOptions<S>): Promise<RunOutcome<S>> {
  let state = o.state;
  const done = new Set(state.done.map((d) => d.id));
  const executed: DoneStep[] = [];
  const write = o.write ?? ((s: S): void => writeStateFile(o.stateFile, s));
  const save = (): void => write(state);
  save();
  const total = o.steps.length;
  let ran = 0;
  for (let index = 0; index < total; index++) {
    const step = o.steps[index] as OpStep;
    if (done.has(step.id)) continue;
    if ((o.stopAfter !== undefined && ran >= o.stopAfter) || (o.stopAfterPhase !== undefined && step.phase > o.stopAfterPhase) || (!step.noStopBefore && o.shouldStop?.()))
      return { state, executed, complete: false, stopped: true };
    if (step.confirmation && !(o.confirmed ?? []).includes(step.confirmation)) return { state, executed, complete: false, stopped: true, awaiting: step };

    // A step that was under way when the last run ended may have left its member down: not a reason to stop.
    const skip = state.current === step.id ? step.member : undefined;
    const before = o.gateBefore ? await o.gateBefore(step, state)(skip) : [];
    if (before.length > 0) throw fail('MEMBER_UNHEALTHY', `before step ${step.id}: ${firstOf(before)}; nothing of this step was done; fix it, then run \`${o.resume}\``);

    const emit = (e: OpEvent): void => void (step.silent ? undefined : o.onEvent?.(e));
    emit({ type: 'step', index: index + 1, total, step });
    const t0 = Date.now();
    state = { ...state, current: step.id, updatedAt: new Date().toISOString() };
    save();
    let pid: number | undefined;
    const ctx: StepContext = {
      get state() {
        return state;
      },
      remember: (key, value) => {
        state = { ...state, data: { ...state.data, [key]: value } };
        save();
      },
    };
    if (step.managed) {
      try {
        pid = (await step.run?.(ctx)) ?? undefined;
      } catch (e) {
        if (isEtcdTlsError(e)) throw e;
        throw fail('MEMBER_NOT_BACK', `step ${step.id}: ${oneLine(reason(e))}; the state is saved in ${o.stateFile}: fix the cause, then run \`${o.resume}\``);
      }
    } else if (step.runbook.length > 0 && !step.confirmation) emit({ type: 'runbook', step, lines: step.runbook });

    const gate = step.noGateAfter ? undefined : o.gateAfter(step, state);
    const waited = await waitFor(
      async () => {
        const seen = step.observe ? await step.observe() : undefined;
        if (seen) return [seen];
        return gate ? await gate() : [];
      },
      {
        timeoutMs: step.managed ? o.stepTimeoutMs : o.manualWaitMs,
        onWait: (problems) => emit({ type: 'waiting', step, problems }),
        abort: () => (pid !== undefined && step.member ? o.alive?.(step.member, pid) : step.managed ? undefined : o.shouldStop?.() ? 'stopped' : undefined),
      },
    );
    if (!waited.ok) {
      if (o.notBack) throw o.notBack(step, waited);
      const what = oneLine(step.managed ? `after step ${step.id} (${waited.why})` : `waiting for the runbook of step ${step.id} (${waited.why})`);
      throw fail('MEMBER_NOT_BACK', `${what}: ${firstOf(waited.problems)}; the state is saved in ${o.stateFile}: fix the cause, then run \`${o.resume}\``);
    }
    const record: DoneStep = { id: step.id, at: new Date().toISOString(), ms: Date.now() - t0, ...(pid !== undefined ? { pid } : {}) };
    const { current: _c, ...rest } = state;
    state = { ...rest, done: [...state.done.filter((d) => d.id !== step.id), record], updatedAt: record.at } as StepRecord as S;
    done.add(step.id);
    executed.push(record);
    save();
    ran++;
    emit({ type: 'step-done', index: index + 1, total, step, ms: record.ms ?? 0, ...(pid !== undefined ? { pid } : {}) });
  }
  if (!state.completedAt) {
    state = { ...state, completedAt: new Date().toISOString() };
    save();
  }
  return { state, executed, complete: true, stopped: false };
}

/** A fresh state for an operation. */
export function newOpState(operation: OperationName, cluster: string, subject: string, data: Record<string, string> = {}): OpState {
  const now = new Date().toISOString();
  return { version: 1, operation, cluster, subject, data, done: [], startedAt: now, updatedAt: now };
}
