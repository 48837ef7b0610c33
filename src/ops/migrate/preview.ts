/**
 * The first half of `migrate`: everything it would do, and whether it may. Reads the spec, DIR and
 * DIR/migration.json and looks at the live cluster; changes nothing (`--dry-run` prints this).
 */
import * as path from 'node:path';
import { fail, isEtcdTlsError } from '../../errors.js';
import { readSpecFile } from '../../cluster/generate.js';
import { layoutCluster, type ClusterLayout } from '../../cluster/layout.js';
import { runningPid } from '../../cluster/local.js';
import { planCluster, readClusterState } from '../../cluster/plan.js';
import type { Member } from '../../etcd/gateway.js';
import { memberCountCheck, memberListCheck, observeCluster, peerSourceCheck, type Check } from './checks.js';
import { portInUse } from '../cluster.js';
import {
  legacyClientPorts,
  planMigration,
  plaintextClientUrl,
  runnerSteps,
  stagesAfter,
  type MigrationPlan,
  type MigrationStep,
  type Stages,
} from './plan.js';
import { readMigrationState, statePath } from './state.js';
import type { OpStep } from '../runner.js';

export interface MigrateOptions {
  /** The cluster spec file. */
  spec: string;
  /** The generated directory (`etcd-tls gen --local` / `up --insecure`). */
  out: string;
  /** One plaintext client port for every member; default: each member's client port - 1. */
  legacyClientPort?: number;
  /** Also restart every member without its plaintext client listener at the end. */
  dropPlaintext?: boolean;
  /** Restart no member, even one started by `etcd-tls up`: print each step's runbook and wait. */
  manual?: boolean;
  /** Go ahead with fewer than 3 members (writes fail while each restarts). */
  force?: boolean;
  /** Bound on each restart's health gate (default 60 s). */
  stepTimeoutMs?: number;
  /** Bound on the wait for an operator to carry out a runbook step (default 30 min). */
  manualWaitMs?: number;
  /** For tests: stop after this many steps of this run, as an interruption would. */
  stopAfter?: number;
  etcdPath?: string;
}

export interface MigrationPreview {
  cluster: string;
  dir: string;
  stateFile: string;
  /** Configs point into DIR (`gen --local`, `up`) rather than at installed paths. */
  local: boolean;
  plan: MigrationPlan;
  /** The plan's steps as a run carries them out (managed or by runbook) and `--dry-run` prints them. */
  steps: OpStep[];
  checks: Check[];
  ok: boolean;
  /** Ids of the steps migration.json records as done. */
  done: string[];
  /** Hex member IDs by name, from the live member list (or the state file). */
  ids: Record<string, string>;
  /** PID of each member etcd-tls started and will restart itself. */
  managed: Record<string, number>;
  /** Every client and peer URL is https already and no migration is recorded: nothing to do. */
  alreadyMigrated: boolean;
  /** Where clients without a certificate write from phase 1 until phase 3. */
  legacyEndpoints: string[];
}

function certificateCheck(layoutLocal: ClusterLayout, specFile: string, out: string): { check: Check; envCurrent: boolean } {
  const gen = `run \`etcd-tls gen ${specFile} --out ${out} --local\` first`;
  try {
    const plan = planCluster(layoutLocal, readClusterState(layoutLocal), new Date());
    const envCurrent = plan.files.filter((f) => f.path.endsWith(`${path.sep}etcd.env`)).every((f) => f.action === 'keep');
    if (plan.ca.action === 'create') return { check: { name: 'certificates', ok: false, message: `${layoutLocal.ca.cert}: no CA yet; ${gen}` }, envCurrent };
    const stale = plan.certificates.find((c) => c.action !== 'keep' && c.intent.role !== 'client');
    if (stale) return { check: { name: 'certificates', ok: false, message: `${stale.certPath}: ${stale.reasons.join('; ')}; ${gen}` }, envCurrent };
    return { check: { name: 'certificates', ok: true, message: 'the CA and every server and peer certificate match the spec' }, envCurrent };
  } catch (e) {
    if (!isEtcdTlsError(e)) throw e;
    return { check: { name: 'certificates', ok: false, message: e.message }, envCurrent: false };
  }
}

const hexIds = (list: readonly Member[]): Record<string, string> => Object.fromEntries(list.map((m) => [m.name, m.idHex]));

/** The step the migration would carry out next (undefined when done). */
export const nextStep = (plan: MigrationPlan, done: ReadonlySet<string>): MigrationStep | undefined => plan.steps.find((s) => !done.has(s.id));

/**
 * Everything `migrate` would do, and whether it may: reads the spec, DIR and migration.json, and
 * looks at the live cluster; changes nothing. `--dry-run` prints this.
 */
export async function previewMigration(options: MigrateOptions): Promise<MigrationPreview> {
  const spec = readSpecFile(options.spec);
  const layoutLocal = layoutCluster(spec, { dir: options.out, local: true });
  const state = readMigrationState(options.out);
  if (state && state.cluster !== spec.cluster)
    throw fail('MIGRATION_REFUSED', `${statePath(options.out)}: records a migration of cluster ${state.cluster}, the spec is cluster ${spec.cluster}`);

  const managed: Record<string, number> = {};
  for (const m of layoutLocal.members) {
    const pid = runningPid(m);
    if (pid !== undefined) managed[m.name] = pid;
  }
  const checks: Check[] = [];
  const certs = certificateCheck(layoutLocal, options.spec, options.out);
  checks.push(certs.check);
  // Members `up` started run the --local configs; otherwise DIR's configs are the ones to install.
  const local = Object.keys(managed).length > 0 || (state?.managed.length ?? 0) > 0 || certs.envCurrent;
  const layout = local ? layoutLocal : layoutCluster(spec, { dir: options.out, local: false });
  checks.push(memberCountCheck(layout.members.length, options.force ?? false));

  let legacy: Record<string, number> = Object.fromEntries(layout.members.map((m) => [m.name, m.spec.clientPort - 1]));
  try {
    legacy = legacyClientPorts(layout, options.legacyClientPort);
  } catch (e) {
    if (!isEtcdTlsError(e)) throw e;
    if (!state) checks.push({ name: 'plaintext-ports', ok: false, message: e.message });
  }
  if (state) {
    const recorded = JSON.stringify(state.legacyClientPorts);
    if (options.legacyClientPort !== undefined && recorded !== JSON.stringify(legacy))
      checks.push({ name: 'plaintext-ports', ok: false, message: `${statePath(options.out)}: this migration opened plaintext ports ${recorded}; resume without --legacy-client-port` });
    legacy = state.legacyClientPorts;
  }
  if (certs.check.ok) checks.push(peerSourceCheck(layout));

  const dropPlaintext = (options.dropPlaintext ?? false) || (state?.dropPlaintext ?? false);
  const planFor = (ids?: Record<string, string>): MigrationPlan => planMigration(layout, { legacyPorts: legacy, dropPlaintext, ...(ids ? { ids } : {}) });
  const plan = planFor(state?.memberIds);
  const done = new Set(state?.done.map((d) => d.id) ?? []);
  const unknown = [...done].find((id) => !plan.steps.some((s) => s.id === id));
  if (unknown) throw fail('MIGRATION_REFUSED', `${statePath(options.out)}: records step ${unknown}, which the spec's plan does not have; the spec changed during the migration`);

  const legacyEndpoints = layout.members.map((m) => plaintextClientUrl(m, { client: 'dual', peer: 'http' }, legacy[m.name] as number) as string);
  const base = { cluster: layout.cluster, dir: layout.dir, stateFile: statePath(options.out), local, done: [...done], managed, legacyEndpoints };
  // What the run restarts itself: members `up` started, now or when the migration began.
  const byUs = (name: string): boolean => !options.manual && (managed[name] !== undefined || (state?.managed.includes(name) ?? false));
  const withSteps = (p: MigrationPlan): { plan: MigrationPlan; steps: OpStep[] } => ({ plan: p, steps: runnerSteps(p, byUs, managed, done) });
  // Static refusals need no cluster: say so before touching the network.
  if (checks.some((c) => !c.ok)) return { ...base, ...withSteps(plan), checks, ok: false, ids: state?.memberIds ?? {}, alreadyMigrated: false };

  const stages = stagesAfter(layout, plan, done);
  const next = nextStep(plan, done);
  const skip = state && next ? next.member : undefined;
  const observed = await observeCluster(layout, stages, legacy, skip);
  // Also after a finished migration whose members were restarted from etcd.env (https only).
  if (observed.problems.length > 0) {
    const final: Stages = Object.fromEntries(layout.members.map((m) => [m.name, { client: 'https', peer: 'https' }]));
    const already = await observeCluster(layout, final, legacy);
    if (already.problems.length === 0 && already.members) {
      const ids = hexIds(already.members);
      checks.push({ name: 'health', ok: true, message: 'every member already serves https on its client and peer URLs' });
      return { ...base, ...withSteps(planFor(ids)), checks, ok: true, ids, alreadyMigrated: true };
    }
  }
  const where = state ? `in the stages ${path.basename(statePath(options.out))} records` : 'over http';
  checks.push(
    observed.problems.length === 0
      ? { name: 'health', ok: true, message: `every member healthy ${where}${skip ? ` (${skip}, next to restart, not checked)` : ''}, member lists agree` }
      : { name: 'health', ok: false, message: `${observed.problems[0]}${observed.problems.length > 1 ? ` (and ${observed.problems.length - 1} more)` : ''}` },
  );
  const list = observed.members ?? [];
  if (observed.members) checks.push(memberListCheck(list, layout, options.force ?? false));
  const ids = state?.memberIds ?? hexIds(list);
  const changedId = list.find((m) => ids[m.name] !== undefined && ids[m.name] !== m.idHex);
  if (changedId) checks.push({ name: 'member-ids', ok: false, message: `${changedId.name} now has ID ${changedId.idHex}, the migration began with ${ids[changedId.name]}; it is not the same member` });

  // A plaintext port already taken would make the member's restart fail.
  const busy: string[] = [];
  await Promise.all(
    layout.members
      .filter((m) => stages[m.name]?.client === 'http' && m.name !== skip)
      .map(async (m) => {
        const host = new URL(m.clientUrl).hostname.replace(/^\[|\]$/g, '');
        if (await portInUse(host, legacy[m.name] as number)) busy.push(`${host}:${legacy[m.name]}`);
      }),
  );
  checks.push(
    busy.length === 0
      ? { name: 'plaintext-ports', ok: true, message: `plaintext ports for old clients are free (${[...new Set(Object.values(legacy))].join(', ')})` }
      : { name: 'plaintext-ports', ok: false, message: `${busy.join(', ')}: already in use; choose a free port with --legacy-client-port` },
  );
  return { ...base, ...withSteps(planFor(ids)), checks, ok: checks.every((c) => c.ok), ids, alreadyMigrated: false };
}
