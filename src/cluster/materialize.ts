/**
 * Materializing a plan: generate keys, issue certificates, render files, and write everything that
 * changed as ONE atomic batch through the store — a failure leaves the directory as it was.
 */
import { issuerFromKey, loadCaIssuer, type Issuer, type PassphraseSource } from '../pki/certificate.js';
import { parseCertificatePem } from '../pki/pem.js';
import { renewCertificate } from '../pki/renew.js';
import { crlValidityMs, readRevocationRecord, signCrl } from './crl.js';
import { crlCopyPaths } from './plan.js';
import { toPem } from '../pki/pem.js';
import { parseUsages } from '../pki/extensions.js';
import { issueCertificate, systemClock, systemRandom, type Clock, type RandomSource } from '../pki/issue.js';
import {
  encodePrivateKeyPem,
  encryptPrivateKeyPem,
  generateKeyAsync,
  generateKeyPairAsync,
  spkiDer,
  validateKeySpec,
  type GeneratedKey,
} from '../pki/keys.js';
import { buildName } from '../pki/name.js';
import { caProfile, DEFAULT_BACKDATE_MS, type Profile } from '../pki/profile.js';
import { emptySans, parseHosts } from '../pki/san.js';
import { ensureMode, PRIVATE_FILE_MODE, PUBLIC_FILE_MODE, readTextFile, writeFilesAtomic, type FileToWrite } from '../store/files.js';
import type { ClusterPlan, PlannedCertificate } from './plan.js';

export interface MaterializeOptions {
  clock?: Clock;
  random?: RandomSource;
  /** Called once per certificate issued, for progress output. */
  onIssued?: (cert: PlannedCertificate) => void;
  /** Where the passphrase of an encrypted CA key comes from. */
  passphrase?: PassphraseSource;
  /** Write a new CA's key encrypted with this passphrase (gen --encrypt-ca-key). */
  encryptCaKeyWith?: string;
  /**
   * Called with every certificate issued, after signing and before any file is written (gen --db
   * records them in the ledger here); a rejection writes nothing.
   */
  beforeWrite?: (issued: readonly { der: Buffer; profile: string }[], issuer: Issuer) => Promise<void>;
}

export interface MaterializeResult {
  caCreated: boolean;
  issued: PlannedCertificate[];
  kept: PlannedCertificate[];
  written: string[];
  unchanged: string[];
  /** Why the CRL was signed, when it was. */
  crlSigned?: string;
}

const profiles = new Map<string, Profile>();
/** One profile object per role+usages+expiry, so the issuer's per-profile extension cache is hit. */
function profileFor(cert: PlannedCertificate): Profile {
  const key = `${cert.intent.role}|${cert.intent.usages.join(',')}|${cert.expiryMs}`;
  let p = profiles.get(key);
  if (!p) {
    p = { name: cert.intent.role, usages: parseUsages(cert.intent.usages), expiryMs: cert.expiryMs, backdateMs: DEFAULT_BACKDATE_MS };
    profiles.set(key, p);
  }
  return p;
}

export async function materializePlan(plan: ClusterPlan, options: MaterializeOptions = {}): Promise<MaterializeResult> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? systemRandom;
  const { layout } = plan;
  const writes: FileToWrite[] = [];

  // Renewals keep their key (no key to generate, and no moment where etcd could read a new
  // certificate beside the old key); everything else reissued gets a new key.
  const toRenew = plan.certificates.filter((c) => c.action !== 'keep' && c.renewFrom !== undefined);
  const toIssue = plan.certificates.filter((c) => c.action !== 'keep' && c.renewFrom === undefined);
  // Every leaf key starts at once on libuv's thread pool, before the CA's own key, so an RSA cluster
  // keeps every core busy from the start (awaited below; the catch only keeps an early CA error from
  // leaving this promise's rejection unhandled).
  const leafKeys = Promise.all(toIssue.map((c) => generateKeyAsync(validateKeySpec(c.intent.key, `spec: ${c.intent.path} key`))));
  leafKeys.catch(() => undefined);

  let issuer: Issuer | undefined;
  let caPem: string;
  if (plan.ca.action === 'create') {
    const caKey = await generateKeyPairAsync(validateKeySpec(plan.ca.key, 'spec: ca.key'));
    const subject = buildName({ CN: layout.ca.intent.subject.CN, names: layout.ca.intent.subject.names }, 'spec: ca');
    const ca = issueCertificate(
      { subject, publicKey: spkiDer(caKey.publicKey), sans: emptySans(), source: 'spec: ca' },
      caProfile(plan.ca.expiryMs),
      { selfSigned: true, privateKey: caKey.privateKey },
      clock,
      random,
    );
    caPem = toPem('CERTIFICATE', ca.der);
    const caKeyPem = options.encryptCaKeyWith !== undefined ? encryptPrivateKeyPem(caKey.privateKey, options.encryptCaKeyWith) : encodePrivateKeyPem(caKey.privateKey);
    writes.push(
      { path: layout.ca.cert, data: caPem, mode: PUBLIC_FILE_MODE, noClobber: true },
      { path: layout.ca.key, data: caKeyPem, mode: PRIVATE_FILE_MODE, noClobber: true },
    );
    issuer = issuerFromKey(caPem, layout.ca.cert, caKey.privateKey, layout.ca.key);
    for (const p of [...layout.members.map((m) => m.files.ca), ...layout.clients.map((c) => c.files.ca)])
      writes.push({ path: p, data: caPem, mode: PUBLIC_FILE_MODE });
  } else {
    caPem = readTextFile(layout.ca.cert, 'CA certificate');
    // Only when something needs signing: an unchanged DIR with an encrypted CA key asks for nothing.
    const mustSign = toIssue.length + toRenew.length > 0 || plan.crl.action === 'sign';
    if (mustSign) issuer = await loadCaIssuer(caPem, layout.ca.cert, readTextFile(layout.ca.key, 'CA key'), layout.ca.key, options.passphrase);
  }

  const signer = (): Issuer => {
    if (!issuer) throw new Error('materialize: signing without a loaded CA');
    return issuer;
  };
  const keys = await leafKeys;
  const issuedDer: { der: Buffer; profile: string }[] = [];
  toIssue.forEach((cert, i) => {
    const key = keys[i] as GeneratedKey;
    const sans = parseHosts([...cert.intent.dns, ...cert.intent.ips], `spec: ${cert.intent.path}`, 'error');
    const subject = buildName({ CN: cert.intent.subject.CN, names: cert.intent.subject.O ? [{ O: cert.intent.subject.O }] : [] }, `spec: ${cert.intent.path}`);
    const issued = issueCertificate({ subject, publicKey: key.spki, sans, source: `spec: ${cert.intent.path}` }, profileFor(cert), signer(), clock, random);
    writes.push(
      { path: cert.certPath, data: toPem('CERTIFICATE', issued.der), mode: PUBLIC_FILE_MODE },
      { path: cert.keyPath, data: key.privateKeyPem, mode: PRIVATE_FILE_MODE },
    );
    issuedDer.push({ der: issued.der, profile: cert.intent.role });
    options.onIssued?.(cert);
  });

  let crlSigned: string | undefined;
  if (plan.crl.action === 'sign') {
    const signed = signCrl(signer(), readRevocationRecord(layout.crl.record), { file: layout.crl.file, record: layout.crl.record, copies: crlCopyPaths(layout) }, clock.now(), crlValidityMs(undefined));
    writes.push(...signed.files);
    crlSigned = plan.crl.reason ?? 'signed';
  }

  for (const cert of toRenew) {
    const renewed = renewCertificate(parseCertificatePem(cert.renewFrom as string, cert.certPath), signer(), { clock, random, source: cert.certPath });
    writes.push({ path: cert.certPath, data: toPem('CERTIFICATE', renewed.der), mode: PUBLIC_FILE_MODE });
    issuedDer.push({ der: renewed.der, profile: cert.intent.role });
    options.onIssued?.(cert);
  }

  const changedFiles = plan.files.filter((f) => f.action !== 'keep');
  writes.push(...changedFiles.map((f) => ({ path: f.path, data: f.data, mode: f.mode })));
  if (options.beforeWrite && issuedDer.length > 0) await options.beforeWrite(issuedDer, signer());
  // Planned for a directory that did not exist: if another run created it since, this run's plan is stale.
  writeFilesAtomic(writes, plan.newDirectory ? { newDirectory: layout.dir } : { root: layout.dir });
  // A kept key (and the CA key) someone made readable to all is private again.
  if (!plan.newDirectory) for (const key of [layout.ca.key, ...plan.certificates.filter((c) => c.action === 'keep').map((c) => c.keyPath)]) ensureMode(key, PRIVATE_FILE_MODE);

  return {
    caCreated: plan.ca.action === 'create',
    issued: [...toIssue, ...toRenew],
    kept: plan.certificates.filter((c) => c.action === 'keep'),
    written: writes.map((w) => w.path),
    unchanged: plan.files.filter((f) => f.action === 'keep').map((f) => f.path),
    ...(crlSigned ? { crlSigned } : {}),
  };
}
