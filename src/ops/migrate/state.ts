/**
 * DIR/migration.json: what a migration has done so far, rewritten atomically after every step, so
 * `migrate` run again (after Ctrl-C, a crash, `--stop-after`) continues where the last run stopped.
 */
import * as path from 'node:path';
import { z } from 'zod';
import { readStateFile, writeStateFile, type DoneStep, type StepRecord } from '../runner.js';

export type { DoneStep } from '../runner.js';

export const STATE_FILE = 'migration.json';

/**
 * migration.json keeps the format of the first versions (read unchanged, so a migration they began
 * resumes); the runner adds only `current`, the step under way when a run stopped.
 */
export interface MigrationState extends StepRecord {
  version: 1;
  cluster: string;
  /** Fixed by the first run: a resumed run must open the same plaintext ports. */
  legacyClientPorts: Record<string, number>;
  /** Member IDs in hex as found by the first run. */
  memberIds: Record<string, string>;
  /** Members etcd-tls restarts itself (started by `etcd-tls up`); the others get a runbook. */
  managed: string[];
  /** Once asked for, phase 3 stays in the plan of every later run. */
  dropPlaintext: boolean;
  done: DoneStep[];
  startedAt: string;
  updatedAt: string;
  completedAt?: string;
  /** Not in migration.json: a migration records no extra values (StepContext.remember). */
  data?: never;
}

const schema = z.strictObject({
  version: z.literal(1),
  cluster: z.string(),
  legacyClientPorts: z.record(z.string(), z.int().min(1).max(65535)),
  memberIds: z.record(z.string(), z.string().regex(/^[0-9a-f]{1,16}$/)),
  managed: z.array(z.string()),
  dropPlaintext: z.boolean(),
  done: z.array(z.strictObject({ id: z.string(), at: z.string(), pid: z.int().optional(), ms: z.number().optional() })),
  current: z.string().optional(),
  startedAt: z.string(),
  updatedAt: z.string(),
  completedAt: z.string().optional(),
});

export const statePath = (dir: string): string => path.join(path.resolve(dir), STATE_FILE);

/** The recorded state, or undefined when no migration was started in DIR. */
export const readMigrationState = (dir: string): MigrationState | undefined => readStateFile(statePath(dir), schema, 'migration') as MigrationState | undefined;

export const writeMigrationState = (dir: string, state: MigrationState): void => writeStateFile(statePath(dir), state);

/** The state with one more step done (and stamped), not yet written. */
export function recordStep(state: MigrationState, step: Omit<DoneStep, 'at'>, now: Date = new Date()): MigrationState {
  return { ...state, done: [...state.done.filter((d) => d.id !== step.id), { ...step, at: now.toISOString() }], updatedAt: now.toISOString() };
}
