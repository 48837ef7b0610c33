/**
 * The http→https migration as data: which stage each member is in, the ordered steps that move the
 * cluster from plaintext to TLS (reference §3d, verified on etcd 3.4.23), and the exact environment
 * each member runs with after each step. Pure: no files, no sockets, so the plan printed by
 * `--dry-run` is exactly what a run executes.
 *
 * Order, and why:
 *   phase 1, per member: TLS on the client port plus a plaintext listener on a second port for old
 *     clients, TLS files for client and peer; the peer URL stays http so every peer still reaches it.
 *   phase 2, per member: `member update` its peer URL to https, then restart it at once with an https
 *     peer listener. Peers dial whatever the member list says, so the reverse order would cut it off.
 *   phase 3 (only with --drop-plaintext): restart without the plaintext client listener.
 */
import { fail } from '../../errors.js';
import type { ClusterLayout, MemberLayout } from '../../cluster/layout.js';
import { etcdEnvironment } from '../../cluster/render.js';
import type { OpStep } from '../runner.js';

export type ClientStage = 'http' | 'dual' | 'https';
/** `updated`: the member list already says https, the member still listens http (the phase-2 window). */
export type PeerStage = 'http' | 'updated' | 'https';
export interface MemberStage {
  client: ClientStage;
  peer: PeerStage;
}
export type Stages = Record<string, MemberStage>;

export type StepKind = 'client-tls' | 'peer-update' | 'peer-restart' | 'drop-plaintext';
export type EnvVars = [string, string][];

export interface EnvChanges {
  set: EnvVars;
  unset: string[];
}

export interface MigrationStep {
  /** Stable across runs (`client-tls:member1`): migration.json records these. */
  id: string;
  phase: 1 | 2 | 3;
  kind: StepKind;
  member: string;
  /** One line for people. */
  summary: string;
  /** Restart steps: the member's whole environment afterwards, and what changed from before. */
  environment?: EnvVars;
  changes?: EnvChanges;
  /** peer-update: the new peer URL. */
  peerUrl?: string;
  /** What an operator runs for this step when etcd-tls does not manage the member. */
  runbook: string[];
}

export interface MigrationPlan {
  cluster: string;
  /** Plaintext port for old clients, per member. */
  legacyClientPorts: Record<string, number>;
  dropPlaintext: boolean;
  steps: MigrationStep[];
}

export interface PlanOptions {
  /** One plaintext port for every member; default: each member's client port - 1. */
  legacyClientPort?: number;
  /** The plaintext port of each member, as a migration under way recorded them (wins over legacyClientPort). */
  legacyPorts?: Record<string, number>;
  dropPlaintext?: boolean;
  /** Member IDs in hex (as etcdctl takes them), for the runbook's `member update` commands. */
  ids?: Record<string, string>;
}

const TLS_VAR = /_(CERT_FILE|KEY_FILE|TRUSTED_CA_FILE|CLIENT_CERT_AUTH|CERT_ALLOWED_HOSTNAME)$/;

const withScheme = (url: string, scheme: 'http' | 'https', port?: number): string => {
  const u = new URL(url);
  // WHATWG URL lets a special scheme become another special scheme; the host (IPv6 brackets included) stays.
  u.protocol = `${scheme}:`;
  if (port !== undefined) u.port = String(port);
  return u.origin;
};

export const memberNamed = (layout: ClusterLayout, name: string): MemberLayout => {
  const m = layout.members.find((x) => x.name === name);
  if (!m) throw new TypeError(`no member ${name} in the layout`);
  return m;
};

/** The plaintext client port of every member; PORT_COLLISION when it is taken by a listener of the spec. */
export function legacyClientPorts(layout: ClusterLayout, legacyClientPort?: number): Record<string, number> {
  const ports: Record<string, number> = {};
  const taken = new Map<string, string>();
  const hostsOf = (m: MemberLayout): string[] => m.listenClientUrls.map((u) => new URL(u).hostname);
  for (const m of layout.members) {
    for (const h of hostsOf(m)) {
      taken.set(`${h}:${m.spec.clientPort}`, `${m.name}'s client port`);
      taken.set(`${h}:${m.spec.peerPort}`, `${m.name}'s peer port`);
    }
  }
  for (const m of layout.members) {
    const port = legacyClientPort ?? m.spec.clientPort - 1;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw fail('BAD_FIELD', `--legacy-client-port: ${port} is not a port number (1-65535)`);
    for (const h of hostsOf(m)) {
      const clash = [...taken].find(([k]) => k === `${h}:${port}` || (h === '0.0.0.0' && k.endsWith(`:${port}`)) || k === `0.0.0.0:${port}`);
      if (clash) throw fail('PORT_COLLISION', `${m.name}: the plaintext client port ${h}:${port} is ${clash[1]}; choose another with --legacy-client-port`);
      taken.set(`${h}:${port}`, `${m.name}'s plaintext client port`);
    }
    ports[m.name] = port;
  }
  return ports;
}

export function initialStages(layout: ClusterLayout): Stages {
  return Object.fromEntries(layout.members.map((m) => [m.name, { client: 'http', peer: 'http' } satisfies MemberStage]));
}

/** The stage a step leaves its member in. */
export function applyStep(stages: Stages, step: Pick<MigrationStep, 'kind' | 'member'>): Stages {
  const s = stages[step.member];
  if (!s) throw new TypeError(`no stage for member ${step.member}`);
  const next: MemberStage =
    step.kind === 'client-tls' ? { ...s, client: 'dual' }
    : step.kind === 'peer-update' ? { ...s, peer: 'updated' }
    : step.kind === 'peer-restart' ? { ...s, peer: 'https' }
    : { ...s, client: 'https' };
  return { ...stages, [step.member]: next };
}

/** The stages after the steps with these ids (in plan order) are done. */
export function stagesAfter(layout: ClusterLayout, plan: MigrationPlan, done: ReadonlySet<string>): Stages {
  return plan.steps.filter((s) => done.has(s.id)).reduce(applyStep, initialStages(layout));
}

/** The URL the member list shows as the member's peer URL in this stage. */
export const advertisedPeerUrl = (m: MemberLayout, s: MemberStage): string => withScheme(m.peerUrl, s.peer === 'http' ? 'http' : 'https');
/** The URL the member list shows as the member's client URL: https from phase 1 on (etcd republishes it). */
export const advertisedClientUrl = (m: MemberLayout, s: MemberStage): string => withScheme(m.clientUrl, s.client === 'http' ? 'http' : 'https');
/** Where clients without certificates reach the member in this stage, if anywhere. */
export function plaintextClientUrl(m: MemberLayout, s: MemberStage, legacyPort: number): string | undefined {
  if (s.client === 'http') return withScheme(m.clientUrl, 'http');
  if (s.client === 'dual') return withScheme(m.clientUrl, 'http', legacyPort);
  return undefined;
}

/**
 * The member's ETCD_* variables in a stage. All-http is exactly what `up --insecure` runs and
 * https/https exactly the generated etcd.env, so the first and last steps join what exists.
 */
export function stageEnvironment(layout: ClusterLayout, member: MemberLayout, stages: Stages, legacyPorts: Record<string, number>): EnvVars {
  const own = stages[member.name];
  if (!own) throw new TypeError(`no stage for member ${member.name}`);
  const legacy = legacyPorts[member.name] ?? member.spec.clientPort - 1;
  const out: EnvVars = [];
  for (const [k, v] of etcdEnvironment(layout, member)) {
    if (TLS_VAR.test(k)) {
      // The files are set from phase 1 on: an http listener ignores them, outbound https dials use them.
      if (own.client !== 'http') out.push([k, v]);
      continue;
    }
    switch (k) {
      case 'ETCD_LISTEN_CLIENT_URLS':
        out.push([
          k,
          own.client === 'http' ? member.listenClientUrls.map((u) => withScheme(u, 'http')).join(',')
          : own.client === 'dual' ? [...member.listenClientUrls, ...member.listenClientUrls.map((u) => withScheme(u, 'http', legacy))].join(',')
          : v,
        ]);
        break;
      case 'ETCD_ADVERTISE_CLIENT_URLS':
        out.push([k, advertisedClientUrl(member, own)]);
        break;
      case 'ETCD_LISTEN_PEER_URLS':
        out.push([k, member.listenPeerUrls.map((u) => withScheme(u, own.peer === 'https' ? 'https' : 'http')).join(',')]);
        break;
      case 'ETCD_INITIAL_ADVERTISE_PEER_URLS':
        out.push([k, withScheme(member.peerUrl, own.peer === 'https' ? 'https' : 'http')]);
        break;
      case 'ETCD_INITIAL_CLUSTER':
        out.push([k, layout.members.map((m) => `${m.name}=${advertisedPeerUrl(m, stages[m.name] ?? own)}`).join(',')]);
        break;
      default:
        out.push([k, v]);
    }
  }
  return out;
}

export function envChanges(before: EnvVars, after: EnvVars): EnvChanges {
  const old = new Map(before);
  const now = new Map(after);
  return {
    set: after.filter(([k, v]) => old.get(k) !== v),
    unset: before.map(([k]) => k).filter((k) => !now.has(k)),
  };
}

// Read the same by systemd's EnvironmentFile= and sh, as in the generated etcd.env.
const dq = (value: string): string => `"${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
const sq = (value: string): string => (/^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`);

function restartRunbook(layout: ClusterLayout, m: MemberLayout, changes: EnvChanges): string[] {
  return [
    `in ${m.installed.env} on ${m.name}'s host, set (leave every other line as it is):`,
    ...changes.set.map(([k, v]) => `  ${k}=${dq(v)}`),
    ...changes.unset.map((k) => `  remove ${k}`),
    layout.local ? `then restart ${m.name}'s etcd with that environment` : 'then restart it:  systemctl restart etcd',
  ];
}

function memberUpdateCommand(m: MemberLayout, id: string, peerUrl: string): string {
  const i = m.installed;
  return [
    'ETCDCTL_API=3 etcdctl',
    `--endpoints=${m.clientUrl}`,
    `--cacert=${sq(i.ca)} --cert=${sq(i.serverCert)} --key=${sq(i.serverKey)}`,
    `member update ${id} --peer-urls=${peerUrl}`,
  ].join(' ');
}

/**
 * Every step from all-http to the end state, in order, each with the environment it leaves its member
 * in. Members in spec order; phase 2 follows phase 1 completely (a member that still listens http
 * on its client port has no TLS files and could not dial an https peer).
 *
 * @example
 *   planMigration(layout, { ids: { member1: '8e9e05c52164694d' } }).steps.map((s) => s.id)
 *   // ['client-tls:member1', ..., 'peer-update:member1', 'peer-restart:member1', ...]
 */
export function planMigration(layout: ClusterLayout, options: PlanOptions = {}): MigrationPlan {
  const legacy = options.legacyPorts ?? legacyClientPorts(layout, options.legacyClientPort);
  const steps: MigrationStep[] = [];
  let stages = initialStages(layout);
  // What each member runs with since its last restart: the baseline of its next step's changes.
  const running = new Map(layout.members.map((m) => [m.name, stageEnvironment(layout, m, stages, legacy)]));
  const restart = (phase: 1 | 2 | 3, kind: StepKind, m: MemberLayout, summary: string): MigrationStep => {
    stages = applyStep(stages, { kind, member: m.name });
    const environment = stageEnvironment(layout, m, stages, legacy);
    const changes = envChanges(running.get(m.name) ?? [], environment);
    running.set(m.name, environment);
    return { id: `${kind}:${m.name}`, phase, kind, member: m.name, summary, environment, changes, runbook: restartRunbook(layout, m, changes) };
  };
  const plainUrl = (m: MemberLayout): string => withScheme(m.clientUrl, 'http', legacy[m.name]);

  for (const m of layout.members) {
    steps.push(
      restart(1, 'client-tls', m, `${m.name}: restart with TLS on ${m.clientUrl} and plaintext for old clients on ${plainUrl(m)}; TLS files for client and peer; peer URL stays http`),
    );
  }
  for (const m of layout.members) {
    const id = options.ids?.[m.name] ?? `<ID of ${m.name}>`;
    stages = applyStep(stages, { kind: 'peer-update', member: m.name });
    const update: MigrationStep = {
      id: `peer-update:${m.name}`,
      phase: 2,
      kind: 'peer-update',
      member: m.name,
      summary: `${m.name}: member update ${id} --peer-urls=${m.peerUrl}`,
      peerUrl: m.peerUrl,
      runbook: [],
    };
    const restartStep = restart(2, 'peer-restart', m, `${m.name}: restart at once with an https peer listener`);
    // An operator does both together: between them the member is cut off from its peers.
    update.runbook = [
      `on ${m.name}'s host, run the member update and restart it right after (until then its peers cannot reach it):`,
      `  ${memberUpdateCommand(m, id, m.peerUrl)}`,
      ...restartStep.runbook,
    ];
    steps.push(update, restartStep);
  }
  if (options.dropPlaintext) {
    for (const m of layout.members) steps.push(restart(3, 'drop-plaintext', m, `${m.name}: restart without the plaintext client listener ${plainUrl(m)}`));
  }
  return { cluster: layout.cluster, legacyClientPorts: legacy, dropPlaintext: options.dropPlaintext ?? false, steps };
}

/** Where old clients (no certificate) can write in these stages: one URL per member that still has one. */
export function plaintextEndpoints(layout: ClusterLayout, stages: Stages, legacyPorts: Record<string, number>): string[] {
  return layout.members.flatMap((m) => {
    const s = stages[m.name];
    const url = s ? plaintextClientUrl(m, s, legacyPorts[m.name] ?? m.spec.clientPort - 1) : undefined;
    return url ? [url] : [];
  });
}


function restartDetail(step: MigrationStep, pid: number | undefined): string[] {
  if (step.kind === 'peer-update') return ['etcd-tls calls member update, then restarts the member at once'];
  return [
    `etcd-tls restarts it${pid ? ` (running now as pid ${pid})` : ''} with these changes to its environment:`,
    ...(step.changes?.set ?? []).map(([k, v]) => `  ${k}=${JSON.stringify(v)}`),
    ...(step.changes?.unset ?? []).map((k) => `  remove ${k}`),
  ];
}

/**
 * The plan's steps as the runner carries them out and `--dry-run` prints them (without what they run).
 * `managed`: members etcd-tls restarts itself (their PIDs now, when running); the others get runbooks.
 * An operator does a member update and the restart after it from one runbook (the update's; between
 * them the member is cut off from its peers), so that restart is silent unless its update was done
 * before this run. Ctrl-C never stops a run between the two.
 */
export function runnerSteps(plan: MigrationPlan, managed: (member: string) => boolean, pids: Readonly<Record<string, number>>, done: ReadonlySet<string>): OpStep[] {
  return plan.steps.map((s): OpStep => {
    const byUs = managed(s.member);
    const silent = !byUs && s.kind === 'peer-restart' && !done.has(`peer-update:${s.member}`);
    return {
      id: s.id,
      phase: s.phase,
      title: s.summary,
      member: s.member,
      managed: byUs,
      detail: byUs ? restartDetail(s, pids[s.member]) : [],
      runbook: silent ? [] : s.runbook,
      // A managed update is confirmed by the restart right after it: until then its member is cut off.
      ...(byUs && s.kind === 'peer-update' ? { noGateAfter: true } : {}),
      ...(s.kind === 'peer-restart' ? { noStopBefore: true } : {}),
      ...(silent ? { silent: true, noGateAfter: true } : {}),
    };
  });
}
