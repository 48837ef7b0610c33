/**
 * `rotate-ca`: replace the CA of a running cluster with no failed write, as etcd's maintainers
 * recommend (etcd reads its trusted CA file only at start, leaves at every handshake):
 *   phase 1: a new CA (new key) beside the old one: DIR/ca-next.pem, DIR/ca-next-key.pem;
 *   phase 2: trust both: every member's and client's ca.pem becomes old+new, then each member is
 *            restarted, one at a time, behind the health gate;
 *   phase 3: every client leaf, then (once the clients run with the bundle and their new leaf) every
 *            member leaf is reissued by the new CA for the same key, so a handshake never reads a
 *            certificate beside a key it does not belong to;
 *   phase 4: trust only the new CA: second rolling restart; the old CA is archived to
 *            DIR/archive/ca-<time>/ and the new one becomes DIR/ca.pem.
 * Each step is confirmed by what the members do (accept a client certificate of the new CA, serve a
 * certificate of it, refuse one of the old CA), so the same check confirms an operator's runbook.
 */
import { parseCertificatePem } from '../pki/pem.js';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { fail } from '../errors.js';
import type { CertificateIntent, ClusterLayout, MemberLayout } from '../cluster/layout.js';
import { logFileOf, restartMember, runningPid } from '../cluster/local.js';
import { etcdEnvironment } from '../cluster/render.js';
import { checkHealth, type ClientTls } from '../etcd/gateway.js';
import { type Issuer } from '../pki/certificate.js';
import { parseCertificate } from '../pki/certificate.js';
import { toPem } from '../pki/pem.js';
import { parseDuration } from '../pki/duration.js';
import { parseUsages } from '../pki/extensions.js';
import { issueCertificate, systemClock, systemRandom } from '../pki/issue.js';
import { encodePrivateKeyPem, encryptPrivateKeyPem, generateKeyPairAsync, generateKey, isEncryptedKeyPem, spkiDer, validateKeySpec, type GeneratedKey } from '../pki/keys.js';
import { loadCaIssuer, newPassphrase, type PassphraseSource } from '../lifecycle/ca-key.js';
import { resignCrl } from '../lifecycle/crl.js';
import { buildName } from '../pki/name.js';
import { caProfile, DEFAULT_BACKDATE_MS, type Profile } from '../pki/profile.js';
import { emptySans, parseHosts } from '../pki/san.js';
import { PRIVATE_FILE_MODE, PUBLIC_FILE_MODE, writeFilesAtomic, type FileToWrite } from '../store/files.js';
import { withDirectoryLock } from '../store/lock.js';
import { gateFor, liveMembers, loadOpsCluster, managesMembers, NEXT_CA_CERT, NEXT_CA_KEY, type OpsCluster } from './cluster.js';
import {
  etcdBinaryFor,
  newOpState,
  readOpState,
  refuseOtherOperations,
  runPlan,
  stateFileOf,
  exitedMember,
  membershipGate,
  type OpEvent,
  type OpState,
  type OpStep,
  type RunOutcome,
} from './runner.js';

export interface RotateOptions {
  spec: string;
  out: string;
  /** The spec client etcd-tls acts with (default admin). */
  client?: string;
  /** Restart nothing, even members `etcd-tls up` runs: print each step for an operator and wait. */
  manual?: boolean;
  /** The clients (kube-apiserver, ...) run with their new bundle and leaf: go past that step. */
  clientsUpdated?: boolean;
  /** For tests: stop once every step of this phase is done. */
  stopAfterPhase?: number;
  stepTimeoutMs?: number;
  manualWaitMs?: number;
  etcdPath?: string;
  /** Where the passphrase of an encrypted CA key comes from (both CAs use the same one). */
  passphrase?: PassphraseSource;
  /** Encrypt the new CA's key (always done when the old one is encrypted). */
  encryptCaKey?: boolean;
}

export const ROTATION_PHASES: Readonly<Record<number, string>> = {
  1: 'a new CA (new key) beside the old one',
  2: "trust both CAs: every member's and client's ca.pem becomes old+new, members restarted one at a time",
  3: 'reissue every client and member leaf from the new CA (same keys; members read leaves at the next handshake)',
  4: 'trust only the new CA: second rolling restart; the old CA is archived, not deleted',
};

export interface RotationPlan {
  cluster: string;
  dir: string;
  stateFile: string;
  steps: OpStep[];
  done: string[];
  /** The phase the recorded state is in (0: not started; 5: complete) and what comes next. */
  phase: number;
  members: string[];
  clients: string[];
  identity: string;
}

export interface RotationReport {
  plan: RotationPlan;
  outcome: RunOutcome;
}

const DEFAULT_STEP_TIMEOUT_MS = 90_000;
const DEFAULT_MANUAL_WAIT_MS = 30 * 60_000;
const rel = (p: string): string => path.relative(process.cwd(), p) || '.';
const read = (f: string): string => readFileSync(f, 'utf8');

/** The two CAs' files in DIR. */
export function caFiles(dir: string): { cert: string; key: string; nextCert: string; nextKey: string } {
  const d = path.resolve(dir);
  return { cert: path.join(d, 'ca.pem'), key: path.join(d, 'ca-key.pem'), nextCert: path.join(d, NEXT_CA_CERT), nextKey: path.join(d, NEXT_CA_KEY) };
}

const profiles = new Map<string, Profile>();
function leafProfile(intent: CertificateIntent): Profile {
  const expiryMs = parseDuration(intent.validity, `spec: ${intent.path} validity`);
  const key = `${intent.role}|${intent.usages.join(',')}|${expiryMs}`;
  let p = profiles.get(key);
  if (!p) profiles.set(key, (p = { name: intent.role, usages: parseUsages(intent.usages), expiryMs, backdateMs: DEFAULT_BACKDATE_MS }));
  return p;
}

/** The leaf of `intent` issued again by `issuer` for the public key of the certificate there now. */
function reissue(certPath: string, intent: CertificateIntent, issuer: Issuer): FileToWrite {
  const current = parseCertificate(parseCertificatePem(read(certPath), certPath), certPath);
  const subject = buildName({ CN: intent.subject.CN, names: intent.subject.O ? [{ O: intent.subject.O }] : [] }, `spec: ${intent.path}`);
  const sans = parseHosts([...intent.dns, ...intent.ips], `spec: ${intent.path}`, 'error');
  const issued = issueCertificate({ subject, publicKey: current.spki, sans }, leafProfile(intent), issuer, systemClock, systemRandom);
  return { path: certPath, data: toPem('CERTIFICATE', issued.der), mode: PUBLIC_FILE_MODE };
}

/** True when the certificate at `certPath` was issued by `ca` (issuer name and key identifier). */
export function issuedBy(certPath: string, caPem: string, caSource: string): boolean {
  const leaf = parseCertificate(parseCertificatePem(read(certPath), certPath), certPath);
  const ca = parseCertificate(parseCertificatePem(caPem, caSource), caSource);
  return leaf.issuerDer.equals(ca.subjectDer) && (!ca.subjectKeyId || leaf.authorityKeyId === ca.subjectKeyId);
}

/** The ETCD_* variables a member runs with now (restarted with exactly these), else its etcd.env's. */
function runningEnvironment(layout: ClusterLayout, m: MemberLayout): [string, string][] {
  const pid = runningPid(m);
  if (pid !== undefined) {
    try {
      const vars = readFileSync(`/proc/${pid}/environ`, 'latin1')
        .split('\0')
        .filter((v) => v.startsWith('ETCD_'))
        .map((v) => [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)] as [string, string]);
      if (vars.length > 0) return vars;
    } catch {
      // not ours to read: fall back to the generated configuration
    }
  }
  return etcdEnvironment(layout, m);
}

/** A short-lived client certificate from one CA, to ask a member whether it trusts that CA. */
class TrustProbe {
  private readonly cache = new Map<string, ClientTls>();
  constructor(
    private readonly trust: () => string,
    private readonly passphrase: PassphraseSource,
  ) {}

  async identity(caPem: string, caKeyPem: string, source: string): Promise<ClientTls> {
    let id = this.cache.get(caPem);
    if (!id) {
      const issuer = await loadCaIssuer(caPem, source, caKeyPem, source, this.passphrase, { allowWeakKey: true }); // the old CA may be the weak one being replaced
      const key: GeneratedKey = generateKey({ algo: 'ecdsa', size: 256 });
      const cert = issueCertificate(
        { subject: buildName({ CN: 'etcd-tls rotate-ca trust probe', names: [] }, 'probe'), publicKey: key.spki, sans: emptySans() },
        { name: 'client', usages: parseUsages(['digital signature', 'client auth']), expiryMs: 3_600_000, backdateMs: DEFAULT_BACKDATE_MS },
        issuer,
        systemClock,
        systemRandom,
      );
      id = { cert: toPem('CERTIFICATE', cert.der), key: key.privateKeyPem };
      this.cache.set(caPem, id);
    }
    return { ...id, ca: this.trust() };
  }

  /** Whether the member at `url` completes a handshake with a client certificate of this CA. */
  async accepts(url: string, caPem: string, caKeyPem: string, source: string): Promise<boolean> {
    try {
      const identity = await this.identity(caPem, caKeyPem, source);
      return (await checkHealth(url, identity, 2000)).healthy;
    } catch {
      return false;
    }
  }
}

export function rotationPhase(state: OpState | undefined, steps: readonly OpStep[]): number {
  if (!state) return 0;
  if (state.completedAt) return 5;
  const done = new Set(state.done.map((d) => d.id));
  const next = steps.find((s) => !done.has(s.id));
  return next ? next.phase : 5;
}

export async function planRotation(o: RotateOptions): Promise<{ plan: RotationPlan; c: OpsCluster; state: OpState }> {
  const c = loadOpsCluster(o.spec, o.out, o.client);
  const { layout } = c;
  const files = caFiles(layout.dir);
  const stateFile = stateFileOf(layout.dir, 'rotate-ca');
  const recorded = readOpState(stateFile);
  const previous = recorded && !recorded.completedAt ? recorded : undefined;
  refuseOtherOperations(layout.dir, 'rotate-ca', 'ca', (s) => `run \`etcd-tls member ${s.operation === 'member-add' ? 'add' : 'remove'} ${s.subject} --spec ${o.spec} --out ${o.out}\``);
  if (!existsSync(files.cert) || !existsSync(files.key))
    throw fail('OPERATION_REFUSED', `${rel(files.cert)}: no CA and key here to rotate; run \`etcd-tls gen ${o.spec} --out ${o.out}\` first`);
  if (!previous && existsSync(files.nextKey))
    throw fail('OPERATION_REFUSED', `${rel(files.nextKey)}: a next CA key exists but no rotation is recorded in ${rel(stateFile)}; move it away (it may be someone's) and run again`);

  // Every live voter must be a member of the spec with its files here: a rotation restarts each.
  const { list } = await liveMembers(c, layout.members.map((m) => m.clientUrl));
  const voters = list.filter((m) => !m.isLearner).map((m) => m.name);
  const members = layout.members.filter((m) => voters.includes(m.name));
  const strangers = voters.filter((n) => !layout.members.some((m) => m.name === n));
  if (strangers.length > 0 || list.some((m) => m.isLearner))
    throw fail('OPERATION_REFUSED', `the cluster has ${strangers.length > 0 ? `members not in ${o.spec} (${strangers.join(', ')})` : 'a learner'}; finish the member add/remove first`);
  if (members.length < 3) throw fail('QUORUM_AT_RISK', `${members.length} voting member(s): quorum is lost while each one restarts; add members first (at least 3)`);

  const managed = managesMembers(c, o.manual);
  const passphrase: PassphraseSource = o.passphrase ?? (async () => undefined);
  const probe = new TrustProbe(c.trust, passphrase);
  const old = (): { pem: string; key: string } => ({ pem: read(files.cert), key: read(files.key) });
  const next = (): { pem: string; key: string } => ({ pem: read(files.nextCert), key: read(files.nextKey) });
  const bundle = (): string => `${old().pem.trimEnd()}\n${next().pem}`;
  const nextIssuer = (): Promise<Issuer> => loadCaIssuer(next().pem, files.nextCert, next().key, files.nextKey, passphrase);
  const caCopies = (which: 'members' | 'clients', data: () => string): FileToWrite[] =>
    (which === 'members' ? members.map((m) => m.files.ca) : layout.clients.map((x) => x.files.ca)).map((p) => ({ path: p, data: data(), mode: PUBLIC_FILE_MODE }));
  const etcdPath = (): string => etcdBinaryFor([...c.managed.values()], o.etcdPath);
  const restart = async (m: MemberLayout): Promise<number> => restartMember(m, runningEnvironment(layout, m), etcdPath());
  const installedCopy = (m: MemberLayout, file: string, installed: string): string => `  ${rel(file)} -> ${installed} on ${m.name}'s host`;
  const restartLine = layout.local ? 'then restart its etcd with the same environment' : 'then: systemctl restart etcd';

  const steps: OpStep[] = [
    {
      id: 'new-ca',
      phase: 1,
      title: `create the new CA (new ${c.spec.ca.key.algo} key) beside the old one: ${rel(files.nextCert)}, ${rel(files.nextKey)}`,
      managed: true,
      detail: [`subject "${c.spec.ca.cn}" as in the spec, valid ${c.spec.ca.validity}; the old CA stays in ${rel(files.cert)} until phase 4`],
      runbook: [],
      run: async () => {
        if (existsSync(files.nextCert) && existsSync(files.nextKey)) {
          await nextIssuer();
          return;
        }
        // Only this step ever wrote these files, and it is not recorded done: a half-written pair is ours to replace.
        const key = await generateKeyPairAsync(validateKeySpec(c.spec.ca.key, 'spec: ca.key'));
        const subject = buildName({ CN: layout.ca.intent.subject.CN, names: layout.ca.intent.subject.names }, 'spec: ca');
        const ca = issueCertificate(
          { subject, publicKey: spkiDer(key.publicKey), sans: emptySans() },
          caProfile(parseDuration(layout.ca.intent.validity, 'spec: ca.validity')),
          { selfSigned: true, privateKey: key.privateKey },
          systemClock,
          systemRandom,
        );
        // An encrypted CA key stays encrypted across the rotation, with the same passphrase.
        const encrypt = o.encryptCaKey || isEncryptedKeyPem(old().key);
        const keyPem = encrypt ? encryptPrivateKeyPem(key.privateKey, await newPassphrase(passphrase, `the new CA key ${rel(files.nextKey)}`)) : encodePrivateKeyPem(key.privateKey);
        writeFilesAtomic([
          { path: files.nextKey, data: keyPem, mode: PRIVATE_FILE_MODE },
          { path: files.nextCert, data: toPem('CERTIFICATE', ca.der), mode: PUBLIC_FILE_MODE },
        ]);
      },
      observe: async () => (existsSync(files.nextCert) ? undefined : `${rel(files.nextCert)} is missing`),
    },
    {
      id: 'trust-both:files',
      phase: 2,
      title: `write old+new CA bundles to every member's and client's ca.pem (${members.length} members, ${layout.clients.length} clients)`,
      managed: true,
      detail: ['nothing reads them until it restarts: etcd loads its trusted CA file only at start'],
      runbook: [],
      run: async () => writeFilesAtomic([...caCopies('members', bundle), ...caCopies('clients', bundle)]),
    },
    ...members.map(
      (m): OpStep => ({
        id: `trust-both:${m.name}`,
        phase: 2,
        title: `${m.name}: restart it so it trusts both CAs`,
        member: m.name,
        managed,
        detail: [`etcd-tls restarts it with the environment it runs with now (log: ${rel(logFileOf(m))}); then it must accept a client certificate of the new CA`],
        runbook: [`copy the old+new bundle to ${m.name}'s host:`, installedCopy(m, m.files.ca, m.installed.ca), restartLine],
        run: async () => restart(m),
        observe: async () => ((await probe.accepts(m.clientUrl, next().pem, next().key, files.nextCert)) ? undefined : `${m.name} does not accept a client certificate of the new CA yet`),
      }),
    ),
    {
      id: 'reissue:clients',
      phase: 3,
      title: `reissue every client certificate from the new CA, same keys (${layout.clients.map((x) => x.name).join(', ') || 'none'})`,
      managed: true,
      detail: ['members trust both CAs now, so old and new client certificates both work'],
      runbook: [],
      run: async () => {
        const issuer = await nextIssuer();
        writeFilesAtomic(layout.clients.filter((x) => !issuedBy(x.files.cert, next().pem, files.nextCert)).map((x) => reissue(x.files.cert, x.certificate, issuer)));
      },
    },
    ...(layout.clients.length > 0
      ? [
          {
            id: 'clients',
            phase: 3,
            title: 'give every client its new files and restart it (etcd-tls cannot see clients: confirm with --clients-updated)',
            managed: false,
            detail: [],
            runbook: [
              'before the members present certificates of the new CA, every client must trust it. For each client, on every host that runs it:',
              ...layout.clients.map(
                (x) =>
                  `  ${x.name}: ${rel(x.files.ca)} (old+new CA) and ${rel(x.files.cert)} (new CA; ${path.basename(x.files.key)} unchanged) -> ${x.installed.dir}/, then restart it${x.kubeApiserver ? ' (kube-apiserver reads --etcd-cafile only at start)' : ''}`,
              ),
              'it keeps working throughout: the members trust both CAs. Then run rotate-ca again with --clients-updated.',
            ],
            confirmation: 'clients',
          } satisfies OpStep,
        ]
      : []),
    ...members.map(
      (m): OpStep => ({
        id: `reissue:${m.name}`,
        phase: 3,
        title: `${m.name}: reissue its server and peer certificates from the new CA, same keys (no restart: read at the next handshake)`,
        member: m.name,
        managed: managed || layout.local,
        detail: [`etcd-tls rewrites ${rel(m.files.serverCert)} and ${rel(m.files.peerCert)}; then ${m.name} must serve a certificate of the new CA`],
        runbook: [`copy the new certificates to ${m.name}'s host (no restart):`, installedCopy(m, m.files.serverCert, m.installed.serverCert), installedCopy(m, m.files.peerCert, m.installed.peerCert)],
        run: async () => {
          const issuer = await nextIssuer();
          writeFilesAtomic(
            [
              [m.files.serverCert, m.server],
              [m.files.peerCert, m.peer],
            ]
              .filter(([p]) => !issuedBy(p as string, next().pem, files.nextCert))
              .map(([p, intent]) => reissue(p as string, intent as CertificateIntent, issuer)),
          );
        },
        observe: async () => {
          const id = c.identity();
          try {
            if ((await checkHealth(m.clientUrl, { ...id, ca: next().pem }, 2000)).healthy) return undefined;
          } catch {
            // not yet
          }
          return `${m.name} does not serve a certificate of the new CA yet`;
        },
      }),
    ),
    ...members.map(
      (m): OpStep => ({
        id: `trust-new:${m.name}`,
        phase: 4,
        title: `${m.name}: ca.pem = the new CA only, restart it (the old CA's certificates are refused from now on)`,
        member: m.name,
        managed,
        detail: [`etcd-tls writes ${rel(m.files.ca)} and restarts it; then it must refuse a client certificate of the old CA`],
        runbook: [`copy the new CA to ${m.name}'s host:`, installedCopy(m, m.files.ca, m.installed.ca), restartLine],
        run: async () => {
          writeFilesAtomic([{ path: m.files.ca, data: next().pem, mode: PUBLIC_FILE_MODE }]);
          return restart(m);
        },
        observe: async () => {
          if (await probe.accepts(m.clientUrl, old().pem, old().key, files.cert)) return `${m.name} still accepts a client certificate of the old CA`;
          if (!(await probe.accepts(m.clientUrl, next().pem, next().key, files.nextCert))) return `${m.name} does not accept a client certificate of the new CA`;
          return undefined;
        },
      }),
    ),
    {
      id: 'archive-old-ca',
      phase: 4,
      title: `archive the old CA to ${rel(path.join(layout.dir, 'archive'))}/ca-<time>/; the new CA becomes ${rel(files.cert)}; clients' ca.pem = the new CA only`,
      managed: true,
      detail: ['nothing references the old CA key afterwards; clients may take the new-only ca.pem at their next restart'],
      runbook: [],
      run: async (ctx) => {
        const stamp = ctx.state.data?.archive ?? new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
        ctx.remember('archive', stamp);
        const archive = path.join(layout.dir, 'archive', `ca-${stamp}`);
        // ca-next stays until the new CA is in place, so a run killed in here finds everything it needs again.
        if (existsSync(files.nextCert) && existsSync(files.nextKey)) {
          const n = next();
          const archived = path.join(archive, 'ca.pem');
          // Once archived, ca.pem may already be the new CA (a run killed below): archive only once.
          if (!existsSync(archived))
            writeFilesAtomic([
              { path: path.join(archive, 'ca-key.pem'), data: old().key, mode: PRIVATE_FILE_MODE, noClobber: true },
              { path: archived, data: old().pem, mode: PUBLIC_FILE_MODE, noClobber: true },
            ]);
          writeFilesAtomic([
            { path: files.key, data: n.key, mode: PRIVATE_FILE_MODE },
            { path: files.cert, data: n.pem, mode: PUBLIC_FILE_MODE },
            ...caCopies('clients', () => n.pem),
          ]);
        }
        rmSync(files.nextCert, { force: true });
        rmSync(files.nextKey, { force: true });
        // The CRL names revoked serials of both CAs; signed again by the CA that now signs everything.
        if (existsSync(path.join(layout.dir, 'crl.der'))) await resignCrl(layout.dir, { passphrase });
      },
    },
  ];

  // The plan's outline goes into the state, so `check` and `status` can say where a rotation stands without the spec.
  const outline = JSON.stringify({ phases: ROTATION_PHASES, steps: steps.map((s) => ({ id: s.id, phase: s.phase, title: s.title })) });
  const state = previous ? { ...previous, data: { ...previous.data, plan: outline } } : newOpState('rotate-ca', layout.cluster, 'ca', { plan: outline });
  return {
    plan: {
      cluster: layout.cluster,
      dir: layout.dir,
      stateFile,
      steps,
      done: state.done.map((d) => d.id),
      phase: rotationPhase(previous, steps),
      members: members.map((m) => m.name),
      clients: layout.clients.map((x) => x.name),
      identity: c.identityName,
    },
    c,
    state,
  };
}

export interface RotateHooks {
  onEvent?: (e: OpEvent) => void;
  shouldStop?: () => boolean;
}

/**
 * Rotate the CA of the running cluster of `o.spec` in `o.out`; resumes a rotation recorded in
 * DIR/rotation.json.
 *
 * @example
 *   const r = await rotateCa({ spec: 'cluster.yaml', out: 'pki', clientsUpdated: true });
 *   r.outcome.complete; // every certificate chains to the new CA; the old one is in pki/archive/
 */
export async function rotateCa(o: RotateOptions, hooks: RotateHooks = {}): Promise<RotationReport> {
  return withDirectoryLock(o.out, 'etcd-tls rotate-ca', async () => {
    const { plan, c, state } = await planRotation(o);
    const list = (await liveMembers(c, c.layout.members.map((m) => m.clientUrl))).list;
    const expect = membershipGate({ members: gateFor(c, list, plan.members), voters: plan.members });
    const outcome = await runPlan({
      stateFile: plan.stateFile,
      state,
      steps: plan.steps,
      resume: `etcd-tls rotate-ca --spec ${o.spec} --out ${o.out}`,
      gateBefore: () => expect,
      gateAfter: () => expect,
      stepTimeoutMs: o.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS,
      manualWaitMs: o.manualWaitMs ?? DEFAULT_MANUAL_WAIT_MS,
      confirmed: o.clientsUpdated ? ['clients'] : [],
      ...(o.stopAfterPhase !== undefined ? { stopAfterPhase: o.stopAfterPhase } : {}),
      alive: exitedMember(c.layout.members),
      ...(hooks.onEvent ? { onEvent: hooks.onEvent } : {}),
      ...(hooks.shouldStop ? { shouldStop: hooks.shouldStop } : {}),
    });
    return { plan: { ...plan, done: outcome.state.done.map((d) => d.id), phase: rotationPhase(outcome.state, plan.steps) }, outcome };
  });
}
