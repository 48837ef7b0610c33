/**
 * How a live operation (migrate, member add/remove, rotate-ca) shows itself while it runs: the runbook
 * an operator must follow, what a wait is waiting for, each step's time, and Ctrl-C as "stop after the
 * current step". One place, so the three commands read the same.
 */
import * as path from 'node:path';
import type { CliIo } from './io.js';
import { isNormalAbsolute } from '../store/files.js';
import type { OpEvent, OpStep } from '../ops/runner.js';

/**
 * A path as the user would type it from where they stand. A normal absolute path inside the working
 * directory (every line of gen's and plan's listings) is the rest after its prefix: a cold
 * path.relative walks both paths character by character, ~5-13 ms for gen's 200 summary lines.
 */
export function rel(p: string): string {
  const cwd = process.cwd();
  const prefix = cwd.endsWith(path.sep) ? cwd : cwd + path.sep;
  if (p.length > prefix.length && p.startsWith(prefix) && isNormalAbsolute(p)) return p.slice(prefix.length);
  return path.relative(cwd, p) || '.';
}
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

export interface LiveOutput {
  /** Steps go to stdout as the record of what happened; with --json only the outcome does, and the runbook to stderr. */
  say(text: string): void;
  /** Prints a step as it starts (under its phase's heading), its runbook, a changed wait reason (on a terminal), its time. */
  onEvent(e: OpEvent): void;
  shouldStop(): boolean;
  /** Removes the Ctrl-C handler: call when the operation is over. */
  release(): void;
}

export function liveOutput(io: CliIo, json: boolean, phaseTitle?: (phase: number) => string): LiveOutput {
  const say = (text: string): void => (json ? io.err(text) : io.out(text));
  let stopRequested = false;
  const onSigint = (): void => {
    stopRequested = true;
    io.err('etcd-tls: stopping after the current step (Ctrl-C again to stop at once)\n');
  };
  process.once('SIGINT', onSigint);
  let shown = '';
  let phase: number | undefined;
  return {
    say,
    onEvent(e) {
      if (e.type === 'step' && !json) {
        if (phaseTitle && e.step.phase !== phase) io.out(`${phaseTitle((phase = e.step.phase))}\n`);
        io.out(`[${e.index}/${e.total}] ${e.step.title}${e.step.managed ? '' : ' (runbook below)'}\n`);
      }
      if (e.type === 'runbook') say(`${e.lines.map((l) => `      ${l}`).join('\n')}\n      waiting until the cluster shows this done ...\n`);
      if (e.type === 'waiting' && io.isTTY && e.problems[0] && e.problems[0] !== shown) {
        shown = e.problems[0];
        io.err(`      waiting: ${shown}\n`);
      }
      if (e.type === 'step-done' && !json) io.out(`      ok in ${seconds(e.ms)}${e.pid ? ` (pid ${e.pid})` : ''}\n`);
    },
    shouldStop: () => stopRequested,
    release: () => void process.removeListener('SIGINT', onSigint),
  };
}

export interface PlanListing {
  /** Lines before the steps: what, where, preconditions, notes. */
  head: readonly string[];
  steps: readonly Pick<OpStep, 'id' | 'phase' | 'title' | 'managed' | 'detail' | 'runbook'>[];
  /** Ids of the steps the state file records as done. */
  done: readonly string[];
  /** A heading whenever the phase changes (operations with phases). */
  phaseTitle?: (phase: number) => string;
  /** Lines after the steps: what every step is checked against. */
  foot: readonly string[];
}

/**
 * What `--dry-run` prints for every live operation: the steps a run executes, numbered, grouped by
 * phase, each with what etcd-tls does or the runbook an operator follows; done steps marked.
 */
export function renderPlanListing(p: PlanListing): string {
  const done = new Set(p.done);
  const lines = [...p.head];
  let phase: number | undefined;
  p.steps.forEach((s, i) => {
    if (p.phaseTitle && s.phase !== phase) lines.push('', p.phaseTitle((phase = s.phase)));
    lines.push(`  ${String(i + 1).padStart(2)}. ${done.has(s.id) ? '[done] ' : ''}${s.title}${s.managed ? '' : ' (runbook)'}`);
    if (!done.has(s.id)) lines.push(...(s.managed ? s.detail : s.runbook).map((l) => `        ${l}`));
  });
  lines.push('', ...p.foot);
  return `${lines.join('\n')}\n`;
}

/** The steps of a `--dry-run --json`, the same fields for every live operation. */
export function planStepsJson(steps: readonly OpStep[], done: readonly string[]): unknown[] {
  const isDone = new Set(done);
  return steps.map((s, i) => ({
    index: i + 1,
    id: s.id,
    phase: s.phase,
    title: s.title,
    managed: s.managed,
    done: isDone.has(s.id),
    detail: s.detail,
    runbook: s.runbook,
    ...(s.confirmation ? { confirmation: s.confirmation } : {}),
  }));
}
