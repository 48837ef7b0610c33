/**
 * etcd-tls as a library: the functions the CLI is built on, listed one by one. Nothing else of src/ is
 * public (the DER walker's `tlv`, `children`, ... are internals and may change). Names follow one rule:
 * `parse*` takes bytes or text, `read*` takes a file path, `encode*`/`toPem` produce bytes or text.
 * The layers behind these exports are described in docs/architecture.md.
 *
 * @example Issue a CA certificate in memory
 *   import { generateKeyPair, buildName, issueCertificate, caProfile, spkiDer, toPem, emptySans } from 'etcd-tls';
 *   const key = generateKeyPair({ algo: 'ecdsa', size: 256 });
 *   const ca = issueCertificate(
 *     { subject: buildName({ CN: 'my etcd CA' }), publicKey: spkiDer(key.publicKey), sans: emptySans() },
 *     caProfile(),
 *     { selfSigned: true, privateKey: key.privateKey },
 *   );
 *   console.log(toPem('CERTIFICATE', ca.der));
 */

/**
 * Errors: every failure a caller should handle is an EtcdTlsError with a stable code from ERROR_CODES.
 *
 * @example
 *   try { readSpecFile('cluster.yaml'); } catch (e) { if (isEtcdTlsError(e) && e.code === 'BAD_FIELD') console.error(e.message); }
 */
export { ERROR_CODES, EtcdTlsError, isEtcdTlsError, type ErrorCode } from './errors.js';

// ---- pki/: pure, bytes and typed objects in and out; clock and randomness are parameters. -------------

/**
 * Keys: generate, parse and encode.
 *
 * @example
 *   const { privateKey } = generateKeyPair({ algo: 'ecdsa', size: 256 });
 *   const pem = encodePrivateKeyPem(privateKey);
 *   parsePrivateKeyPem(pem, 'member1-key.pem');
 */
export {
  DEFAULT_KEY_SPEC,
  encodePrivateKeyPem,
  generateKey,
  generateKeyAsync,
  generateKeyPair,
  generateKeyPairAsync,
  keyMatchesPublicKey,
  keySpecOf,
  parsePrivateKeyPem,
  spkiDer,
  validateKeySpec,
  type GeneratedKey,
  type KeyAlgorithm,
  type KeyPair,
  type KeySpec,
  type PrivateKeyFormat,
} from './pki/keys.js';

/**
 * Names and subject alternative names.
 *
 * @example
 *   const subject = buildName({ CN: 'member1', names: [{ O: 'etcd' }] });
 *   const sans = parseHosts(['member1', '127.0.0.1']);
 */
export { buildName, commonName, formatName, type Name, type NameSpec } from './pki/name.js';
export { emptySans, normalizeIp, parseHosts, type SubjectAltNames } from './pki/san.js';

/**
 * Durations as cfssl writes them, and usages as cfssl names them.
 *
 * @example
 *   parseDuration('8760h', 'expiry') // 31536000000 (ms)
 *   parseUsages(['signing', 'server auth'])
 */
export { formatDuration, parseDuration } from './pki/duration.js';
export { parseUsages, type ExtKeyUsageName, type KeyUsageName, type Usages } from './pki/extensions.js';

/**
 * Profiles (data, not code paths) and issuance.
 *
 * @example
 *   const issuer = loadIssuer(caPem, 'ca.pem', caKeyPem, 'ca-key.pem');
 *   const leaf = issueCertificate({ subject, publicKey, sans }, ETCD_PROFILES.peer, issuer);
 */
export { caProfile, CFSSL_DEFAULT_PROFILE, ETCD_PROFILES, type Profile } from './pki/profile.js';
export { issueCertificate, systemClock, systemRandom, type CertificateRequest, type Clock, type IssuedCertificate, type RandomSource } from './pki/issue.js';
export { loadIssuer, verifySignedBy, type Issuer } from './pki/certificate.js';
export { buildCsr, type CsrInput } from './pki/csr.js';
export { MAX_RENEWAL_WINDOW_MS, needsRenewal, renewalWindowMs } from './pki/renewal.js';

/**
 * PEM: the one reader and writer.
 *
 * @example
 *   const certs = parsePemCertificates(readFileSync('ca.pem', 'utf8'), 'ca.pem');
 *   toPem('CERTIFICATE', certs[0]);
 */
export { parseCertificatePem, parsePemBlocks, parsePemCertificates, toPem, type PemBlock } from './pki/pem.js';

/**
 * The one typed view of a certificate (a DER walker), and of a CSR, for people and the doctor.
 *
 * @example
 *   const cert = parseCertificate(parseCertificatePem(pem, 'server.pem'), 'server.pem');
 *   cert.subject.text; cert.notAfter; cert.sans;
 */
export { parseCertificate, type ParsedCertificate, type NameView } from './pki/certificate.js';
export { inspectCsr, type CsrView } from './pki/inspect.js';

// ---- etcd/: etcd's own world. ---------------------------------------------------------------------

/**
 * Talk to a running etcd through its JSON gateway.
 *
 * @example
 *   const members = await memberList('https://127.0.0.1:2379', { ca, cert, key });
 */
export { checkHealth, getKey, memberList, memberUpdate, putKey, type ClientTls, type Member } from './etcd/gateway.js';

// ---- cluster/: one spec -> the whole cluster's PKI and configuration. --------------------------------

/**
 * @example
 *   const spec = readSpecFile('cluster.yaml');
 *   const { plan, result } = await generateCluster(spec, { out: 'pki' });
 */
export { parseSpec, validateSpec, specJsonSchema, type ClusterSpec, type MemberSpec, type ClientSpec, type CaSpec } from './cluster/spec.js';
export { layoutCluster, certificateIntents, type ClusterLayout, type MemberLayout, type ClientLayout, type CertificateIntent } from './cluster/layout.js';
export { renderConfigFiles, etcdEnvironment } from './cluster/render.js';
export { planCluster, readClusterState, type ClusterPlan, type PlannedCertificate, type PlannedFile } from './cluster/plan.js';
export { materializePlan, type MaterializeResult } from './cluster/materialize.js';
export { generateCluster, planFromSpec, readSpecFile } from './cluster/generate.js';
export { DEFAULT_SPEC_YAML } from './cluster/defaults.js';

// ---- doctor/: check, probe, explain. Diagnosis only: nothing here changes a cluster. ------------------

/**
 * Findings are data; render them for people or scripts.
 *
 * @example
 *   const report = await runCheck({ dir: 'pki' });
 *   process.stdout.write(renderFindingsText(report.findings));
 *   if (hasErrors(report.findings)) process.exitCode = 1;
 */
export {
  hasErrors,
  renderFindingsJson,
  renderFindingsText,
  summaryLine,
  type CatalogueId,
  type Finding,
  type FindingCode,
  type Severity,
} from './doctor/findings.js';
export { runCheck, type CheckRequest, type CheckReport } from './doctor/check/check.js';
export { CHECK_CODES, type CheckCode } from './doctor/check/codes.js';

/**
 * @example
 *   const report = await probeEndpoints(['https://127.0.0.1:2379'], { credentials: { ca, cert, key } });
 */
export { probeEndpoints, probeEndpoint, type ProbeOptions, type ProbeReport, type EndpointReport } from './doctor/probe/probe.js';
export { PROBE_CODES, type ProbeCode } from './doctor/probe/codes.js';

/**
 * @example
 *   explainLine('x509: certificate is valid for 127.0.0.2, not 127.0.0.1')[0].id // 'san-mismatch'
 */
export { CATALOGUE, findEntry, type CatalogueEntry } from './doctor/explain/catalogue.js';
export { explainLine, explainText, type Explanation } from './doctor/explain/explain.js';

// ---- ops/: operations that change a live cluster. ---------------------------------------------------

/**
 * @example
 *   const preview = await previewMigration({ spec: 'cluster.yaml', out: 'pki' });
 *   if (preview.ok) await migrateCluster({ spec: 'cluster.yaml', out: 'pki' });
 */
export { migrateCluster, previewMigration, type MigrateOptions, type MigrationReport } from './ops/migrate/migrate.js';

// ---- lifecycle/: day 2 on files (status, renew, revoke and CRLs, the CA key). ---------------------------

/**
 * @example
 *   const report = collectStatus('pki', { warnMs: 30 * 86_400_000, criticalMs: 7 * 86_400_000 });
 *   await revoke('pki', { clients: ['admin'], reason: 'keyCompromise' });
 */
export { issueCrl, parseCrl, crlSignedBy, CRL_REASONS, type CrlReason, type CrlView, type CrlInput, type RevokedEntry } from './pki/crl.js';
export { renewCertificate } from './pki/renew.js';
export { collectStatus, type StatusReport, type StatusEntry, type StatusOptions } from './lifecycle/status.js';
export { renew, type RenewSelection, type RenewResult, type RenewedItem } from './lifecycle/renew.js';
export { revoke, type RevokeTargets, type RevokeResult } from './lifecycle/revoke.js';
export { resignCrl } from './lifecycle/crl.js';
export { readRevocationRecord, type RevocationRecord } from './cluster/crl.js';
export { readCaPrivateKey, loadCaIssuer, convertCaKey, PASSPHRASE_ENV, type PassphraseSource } from './lifecycle/ca-key.js';
