/**
 * Where a CA rotation (`etcd-tls rotate-ca`) recorded in DIR stands, read from DIR/rotation.json (or
 * DIR/ca-next.pem alone): for `check` and `status`, which must tell a half-rotated directory from a
 * broken one. The rotation writes the plan's outline into its state, so this needs no spec.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { NEXT_CA_CERT } from './layout.js';

export interface RotationStatus {
  /** DIR/rotation.json, or DIR/ca-next.pem when no state was recorded. */
  file: string;
  /** 1-4: the phase of the next step; 5: every step done. */
  phase: number;
  phaseTitle: string;
  done: number;
  total: number;
  next?: { id: string; title: string };
  complete: boolean;
}

interface Outline {
  phases: Record<string, string>;
  steps: { id: string; phase: number; title: string }[];
}

/** Where the rotation recorded in DIR stands; undefined when none is recorded or under way. */
export function rotationStatus(dir: string): RotationStatus | undefined {
  const stateFile = path.join(dir, 'rotation.json');
  const next = path.join(dir, NEXT_CA_CERT);
  if (!existsSync(stateFile)) {
    if (!existsSync(next)) return undefined;
    return { file: next, phase: 1, phaseTitle: 'a new CA beside the old one', done: 0, total: 0, complete: false };
  }
  let state: { done?: { id: string }[]; completedAt?: string; data?: { plan?: string } };
  let outline: Outline | undefined;
  try {
    state = JSON.parse(readFileSync(stateFile, 'utf8')) as typeof state;
    outline = state.data?.plan ? (JSON.parse(state.data.plan) as Outline) : undefined;
  } catch {
    return { file: stateFile, phase: 0, phaseTitle: 'unknown: the state file does not parse', done: 0, total: 0, complete: false };
  }
  if (state.completedAt) return undefined;
  const done = new Set((state.done ?? []).map((d) => d.id));
  const steps = outline?.steps ?? [];
  const pending = steps.find((s) => !done.has(s.id));
  const phase = pending?.phase ?? 5;
  return {
    file: stateFile,
    phase,
    phaseTitle: outline?.phases[String(phase)] ?? (phase === 5 ? 'done' : '?'),
    done: done.size,
    total: steps.length,
    ...(pending ? { next: { id: pending.id, title: pending.title } } : {}),
    complete: false,
  };
}

