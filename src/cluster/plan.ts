/**
 * Planning: compare what the layout asks for with what the output directory already holds, and
 * decide per certificate and per file whether to create, reissue, update or keep it. Reading the
 * directory is the only I/O here (readClusterState); planCluster itself is pure, so `plan` can print
 * exactly what `gen` will do.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fail } from '../errors.js';
import { parseCertificate, type ParsedCertificate } from '../pki/certificate.js';
import { parseCertificatePem } from '../pki/pem.js';
import { parseDuration } from '../pki/duration.js';
import { parseUsages } from '../pki/extensions.js';
import { describeKeySpec, privateKeyPemMatches, type KeySpec } from '../pki/keys.js';
import { buildName, formatName } from '../pki/name.js';
import { checkValidityWindow, expectedLifetimeMs } from '../pki/issue.js';
import { caProfile, DEFAULT_BACKDATE_MS, type Profile } from '../pki/profile.js';
import { needsRenewal } from '../pki/renewal.js';
import { normalizeIp } from '../pki/san.js';
import { PUBLIC_FILE_MODE, readFileIfExists } from '../store/files.js';
import { crlSigningReason } from './crl.js';
import { under, type CertificateIntent, type ClusterLayout } from './layout.js';
import { renderConfigFiles } from './render.js';


export interface PemPair {
  certPem?: string;
  keyPem?: string;
}

/** What the output directory holds now: PEM texts by intent path, and file bytes by absolute path. */
export interface ClusterState {
  /** Whether the output directory existed when it was read. */
  dirExists: boolean;
  ca: PemPair;
  certificates: Map<string, PemPair>;
  files: Map<string, Buffer>;
  /** DIR/crl.der's bytes, when it exists. */
  crl?: Buffer;
}

const readIfExists = (file: string): Buffer | undefined => readFileIfExists(file, 'existing output file');
const readTextIfExists = (file: string): string | undefined => readIfExists(file)?.toString('utf8');

/** Read everything the layout could write that already exists. */
export function readClusterState(layout: ClusterLayout): ClusterState {
  const certificates = new Map<string, PemPair>();
  // A directory that does not exist yet holds nothing: skip the ~1,000 lookups (and a render) of a big cluster.
  if (!existsSync(layout.dir)) {
    for (const intent of intentsOf(layout)) certificates.set(intent.path, {});
    return { dirExists: false, ca: {}, certificates, files: new Map() };
  }
  for (const intent of intentsOf(layout)) {
    const base = under(layout.dir, intent.path);
    const certPem = readTextIfExists(`${base}.pem`);
    const keyPem = readTextIfExists(`${base}-key.pem`);
    certificates.set(intent.path, { ...(certPem ? { certPem } : {}), ...(keyPem ? { keyPem } : {}) });
  }
  const files = new Map<string, Buffer>();
  for (const f of [...renderConfigFiles(layout).map((r) => r.path), ...caCopyPaths(layout), ...crlCopyPaths(layout)]) {
    const data = readIfExists(f);
    if (data) files.set(f, data);
  }
  const caCert = readTextIfExists(layout.ca.cert);
  const caKey = readTextIfExists(layout.ca.key);
  const crl = readIfExists(layout.crl.file);
  return { dirExists: true, ca: { ...(caCert ? { certPem: caCert } : {}), ...(caKey ? { keyPem: caKey } : {}) }, certificates, files, ...(crl ? { crl } : {}) };
}

export type CertificateAction = 'create' | 'reissue' | 'keep';
export type FileAction = 'create' | 'update' | 'keep';

export interface PlannedCertificate {
  intent: CertificateIntent;
  action: CertificateAction;
  /** Why it is (re)issued; empty when kept. */
  reasons: string[];
  certPath: string;
  keyPath: string;
  /** Parsed profile inputs, so materialize need not parse them again. */
  expiryMs: number;
  /**
   * Set when the only reason to reissue is the renewal window: materialize renews it from this
   * certificate with its own key (pki/renew.ts, as `etcd-tls renew` does), writing the certificate only.
   */
  renewFrom?: string;
}

export interface PlannedFile {
  path: string;
  data: string | Buffer;
  mode: number;
  action: FileAction;
}

export interface ClusterPlan {
  layout: ClusterLayout;
  /** The output directory did not exist when planned: writing must create it, not find it. */
  newDirectory: boolean;
  ca: {
    action: 'create' | 'keep';
    subject: string;
    key: KeySpec;
    expiryMs: number;
    /** The existing CA, when kept. */
    existing?: ParsedCertificate;
  };
  certificates: PlannedCertificate[];
  /** Sign DIR/crl.der (and copy it into every bundle), or keep it; `reason` says why it is signed. */
  crl: { action: 'sign' | 'keep'; reason?: string };
  /** Configuration files and the per-folder copies of ca.pem (and of crl.der when it is kept). */
  files: PlannedFile[];
}

function intentsOf(layout: ClusterLayout): CertificateIntent[] {
  return [...layout.members.flatMap((m) => [m.server, m.peer]), ...layout.clients.map((c) => c.certificate)];
}

function caCopyPaths(layout: ClusterLayout): string[] {
  return [...layout.members.map((m) => m.files.ca), ...layout.clients.map((c) => c.files.ca)];
}

/** Every bundle's copy of DIR/crl.der. */
export function crlCopyPaths(layout: ClusterLayout): string[] {
  return [...layout.members.map((m) => m.files.crl), ...layout.clients.map((c) => c.files.crl)];
}

/** A path as the user would type it, for messages. */
const rel = (file: string): string => path.relative(process.cwd(), file) || file;

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

const keySpecEquals = (a: KeySpec, b: KeySpec): boolean =>
  a.algo === b.algo && (a.algo === 'ed25519' || a.size === b.size);

/** Enough of a leaf profile to check its validity window (usages do not matter there). */
const leafWindowProfile = (expiryMs: number): Profile => ({ ...caProfile(expiryMs), name: 'leaf' });

/** Why an existing certificate no longer matches its intent (empty: keep it). */
export function staleReasons(
  intent: CertificateIntent,
  existing: PemPair,
  ca: ParsedCertificate,
  expiryMs: number,
  now: Date,
): string[] {
  if (!existing.certPem) return ['missing'];
  if (!existing.keyPem) return ['key file missing'];
  let view: ParsedCertificate;
  try {
    view = parseCertificate(parseCertificatePem(existing.certPem, intent.path), intent.path);
  } catch {
    return ['existing certificate cannot be parsed'];
  }
  const reasons: string[] = [];
  try {
    if (!privateKeyPemMatches(existing.keyPem, view.spki, intent.path)) reasons.push('key does not match certificate');
  } catch {
    reasons.push('existing key cannot be parsed');
  }
  if (!view.issuerDer.equals(ca.subjectDer) || (ca.subjectKeyId && view.authorityKeyId !== ca.subjectKeyId))
    reasons.push('issued by another CA');
  const cn = view.subject.attributes.find((a) => a.type === 'CN')?.value;
  const o = view.subject.attributes.filter((a) => a.type === 'O').map((a) => a.value);
  if (cn !== intent.subject.CN || !sameSet(o, intent.subject.O ?? [])) reasons.push('subject changed');
  const wantIps = intent.ips.map(normalizeIp);
  if (!sameSet(view.sans.dns, intent.dns) || !sameSet(view.sans.ips, wantIps)) {
    const have = [...view.sans.dns, ...view.sans.ips];
    const want = [...intent.dns, ...wantIps];
    const added = want.filter((s) => !have.includes(s));
    const removed = have.filter((s) => !want.includes(s));
    reasons.push(`SANs changed (${[...added.map((s) => `+${s}`), ...removed.map((s) => `-${s}`)].join(' ')})`);
  }
  const usages = parseUsages(intent.usages);
  if (!sameSet(view.extKeyUsage, usages.extKeyUsage) || !sameSet(view.keyUsage, usages.keyUsage)) reasons.push('usages changed');
  if (!keySpecEquals(view.publicKey, intent.key)) reasons.push(`key type changed (${describeKeySpec(view.publicKey)} → ${describeKeySpec(intent.key)})`);
  if (view.notAfter.getTime() - view.notBefore.getTime() !== expectedLifetimeMs({ expiryMs, backdateMs: DEFAULT_BACKDATE_MS }))
    reasons.push('validity changed');
  // A routine `gen` run also renews what is due (the rule `renew` and `status` share).
  if (needsRenewal(view, now))
    reasons.push(view.notAfter <= now ? 'expired' : `due for renewal (expires ${view.notAfter.toISOString().replace('.000Z', 'Z')})`);
  return reasons;
}

/** The first line that marks a member's install.sh as generated with --local (render.ts writes it). */
const LOCAL_INSTALL_MARK = 'generated by etcd-tls with --local.';

/**
 * `up` generates with --local: its configs point into DIR. Over a directory generated for the hosts
 * (the README's `gen --out pki` then `up --out pki`) that rewrote etcd.env, install.sh and etcdctl.env
 * with local paths, and the next `scp` shipped them. Refuse instead: a directory is for one or the other.
 */
function refuseLocalOverHostConfigs(layout: ClusterLayout, state: ClusterState): void {
  for (const m of layout.members) {
    const script = state.files.get(m.files.install);
    if (script && !script.includes(LOCAL_INSTALL_MARK))
      throw fail(
        'WOULD_OVERWRITE',
        `${rel(m.files.install)}: ${rel(layout.dir)} was generated for the hosts (gen without --local); running it in place would rewrite its etcd.env, install.sh and etcdctl.env with local paths. Use a directory of its own: etcd-tls up SPEC --out ${rel(layout.dir)}-local`,
      );
  }
}

/**
 * Decide what `gen` will do. Errors: CA_KEY_MISSING (ca.pem without ca-key.pem), DIFFERENT_CA (the
 * directory holds a CA with another subject than the spec's).
 */
export function planCluster(layout: ClusterLayout, state: ClusterState, now: Date): ClusterPlan {
  const caIntent = layout.ca.intent;
  const caSubject = formatName(buildName({ CN: caIntent.subject.CN, names: caIntent.subject.names }, 'spec: ca'));
  const caExpiryMs = parseDuration(caIntent.validity, 'spec: ca.validity');
  checkValidityWindow(caProfile(caExpiryMs), now, 'spec: ca.validity');
  let caCore: ParsedCertificate | undefined;
  if (state.ca.certPem) {
    if (!state.ca.keyPem)
      throw fail('CA_KEY_MISSING', `${rel(layout.ca.cert)}: exists but ${rel(layout.ca.key)} does not; restore the key or choose another --out`);
    caCore = parseCertificate(parseCertificatePem(state.ca.certPem, layout.ca.cert), layout.ca.cert);
    const existingSubject = caCore.subject.text;
    if (existingSubject !== caSubject)
      throw fail(
        'DIFFERENT_CA',
        `${rel(layout.ca.cert)}: holds the CA "${existingSubject}", but the spec asks for "${caSubject}"; use another --out (etcd-tls never replaces a CA)`,
      );
  } else if (state.ca.keyPem) {
    throw fail('WOULD_OVERWRITE', `${rel(layout.ca.key)}: a CA key exists without ca.pem; refusing to replace it`);
  }

  if (layout.local) refuseLocalOverHostConfigs(layout, state);

  const certificates = intentsOf(layout).map((intent): PlannedCertificate => {
    const expiryMs = parseDuration(intent.validity, `spec: ${intent.path} validity`);
    checkValidityWindow(leafWindowProfile(expiryMs), now, `spec: ${intent.path} validity`);
    const existing = state.certificates.get(intent.path) ?? {};
    const reasons = caCore ? staleReasons(intent, existing, caCore, expiryMs, now) : existing.certPem ? ['new CA'] : ['missing'];
    const action: CertificateAction = reasons.length === 0 ? 'keep' : existing.certPem ? 'reissue' : 'create';
    const base = under(layout.dir, intent.path);
    const renewalOnly = reasons.length > 0 && reasons.every((r) => r === 'expired' || r.startsWith('due for renewal'));
    return { intent, action, reasons, certPath: `${base}.pem`, keyPath: `${base}-key.pem`, expiryMs, ...(renewalOnly && existing.certPem ? { renewFrom: existing.certPem } : {}) };
  });

  // ca.pem copies are only known when the CA exists; a new CA's copies are added at materialize time.
  const caCopies = state.ca.certPem
    ? caCopyPaths(layout).map((p) => ({ path: p, data: state.ca.certPem as string, mode: PUBLIC_FILE_MODE }))
    : [];
  const crlReason = caCore ? crlSigningReason(state.crl, caCore.der, now) : 'new CA';
  // A kept CRL is copied into bundles that lack it or hold another version; a signed one goes everywhere.
  const crlCopies = !crlReason && state.crl ? crlCopyPaths(layout).map((p) => ({ path: p, data: state.crl as Buffer, mode: PUBLIC_FILE_MODE })) : [];
  const files = [...renderConfigFiles(layout), ...caCopies, ...crlCopies].map((f): PlannedFile => {
    const existing = state.files.get(f.path);
    const action: FileAction = !existing ? 'create' : existing.equals(Buffer.from(f.data)) ? 'keep' : 'update';
    return { ...f, action };
  });

  return {
    layout,
    newDirectory: !state.dirExists,
    ca: {
      action: caCore ? 'keep' : 'create',
      subject: caSubject,
      key: caIntent.key,
      expiryMs: caExpiryMs,
      ...(caCore ? { existing: caCore } : {}),
    },
    certificates,
    crl: crlReason ? { action: 'sign', reason: crlReason } : { action: 'keep' },
    files,
  };
}

