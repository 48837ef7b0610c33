/**
 * How a live operation (migrate, member add/remove, rotate-ca) shows itself while it runs: the runbook
 * an operator must follow, what a wait is waiting for, each step's time, and Ctrl-C as "stop after the
 * current step". One place, so the three commands read the same.
 */
import * as path from 'node:path';
import type { CliIo } from './io.js';

/** A path as the user would type it from where they stand. */
export const rel = (p: string): string => path.relative(process.cwd(), p) || '.';
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

/** The runner events every live operation emits (the runners' own event types add their step events). */
interface CommonEvent {
  type: string;
  lines?: readonly string[];
  problems?: readonly string[];
  ms?: number;
  pid?: number;
}

export interface LiveOutput {
  /** Steps go to stdout as the record of what happened; with --json only the outcome does, and the runbook to stderr. */
  say(text: string): void;
  /** Prints a runbook, a changed wait reason (on a terminal) or a finished step. */
  onEvent(e: CommonEvent): void;
  shouldStop(): boolean;
  /** Removes the Ctrl-C handler: call when the operation is over. */
  release(): void;
}

export function liveOutput(io: CliIo, json: boolean): LiveOutput {
  const say = (text: string): void => (json ? io.err(text) : io.out(text));
  let stopRequested = false;
  const onSigint = (): void => {
    stopRequested = true;
    io.err('etcd-tls: stopping after the current step (Ctrl-C again to stop at once)\n');
  };
  process.once('SIGINT', onSigint);
  let shown = '';
  return {
    say,
    onEvent(e) {
      if (e.type === 'runbook' && e.lines) say(`${e.lines.map((l) => `      ${l}`).join('\n')}\n      waiting until the cluster shows this done ...\n`);
      if (e.type === 'waiting' && io.isTTY && e.problems?.[0] && e.problems[0] !== shown) {
        shown = e.problems[0];
        io.err(`      waiting: ${shown}\n`);
      }
      if (e.type === 'step-done' && !json && e.ms !== undefined) io.out(`      ok in ${seconds(e.ms)}${e.pid ? ` (pid ${e.pid})` : ''}\n`);
    },
    shouldStop: () => stopRequested,
    release: () => void process.removeListener('SIGINT', onSigint),
  };
}
