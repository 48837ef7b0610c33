/**
 * A large DIR checked in runs: consecutive member and client folders, UNITS_PER_SESSION at a time,
 * each run by a CheckSession of its own. A run's result stands for checking its folders in one
 * session over all of them only when nothing in it reaches outside them; check.ts decides, and
 * checks them in one session if not.
 *
 * Worker threads were tried for the runs and measured slower on this 2-core machine with nothing
 * else running (a 300-member check: 610 ms on one thread, 700 ms with one worker; the worker's start,
 * its cold compile and its own GC cost ~290 ms of CPU, more than the half of the work it took).
 */
import type { Dirent } from 'node:fs';
import { CheckSession, readDir, type SessionFindings } from './session.js';

/**
 * Folders per session. A session keeps every certificate it read until its checks run, and the
 * young-generation GC copies all of that again at each collection: in runs of this many, what a
 * session held dies young (a 300-member check spent ~115 ms in GC holding everything, ~50-70 now).
 */
export const UNITS_PER_SESSION = 32;

export interface RunSettings {
  primaryCa?: string;
  now: Date;
  warningDays: number;
}

export interface RunResult {
  findings: SessionFindings;
  /** Where the session registered certificates and CA files (CheckSession.registeredDirs). */
  dirs: string[];
}

/** Directory listings already made (check's unitDirs), so that no folder is listed again. */
export type Listings = ReadonlyMap<string, Dirent[]>;

/** `items` in consecutive runs of at most `size`. */
export function runsOf<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** One run of folders, checked by a session of its own. */
export function checkRun(settings: RunSettings, units: readonly string[], listings?: Listings): RunResult {
  const session = new CheckSession(settings.now, settings.warningDays);
  session.primaryCa = settings.primaryCa;
  for (const dir of units) session.scanUnit(dir, listings?.get(dir) ?? readDir(dir), false);
  return { findings: session.finish(), dirs: [...session.registeredDirs()] };
}
