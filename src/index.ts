/**
 * etcd-tls as a library. The CLI is built on exactly these functions.
 *
 * @example
 *   import { generateKeyPair, buildName, issueCertificate, caProfile, spkiDer, toPem, emptySans } from 'etcd-tls';
 *   const key = generateKeyPair({ algo: 'ecdsa', size: 256 });
 *   const ca = issueCertificate(
 *     { subject: buildName({ CN: 'my etcd CA' }), publicKey: spkiDer(key.publicKey), sans: emptySans() },
 *     caProfile(),
 *     { selfSigned: true, privateKey: key.privateKey },
 *   );
 *   console.log(toPem('CERTIFICATE', ca.der));
 */
export * from './errors.js';
export * from './pki/index.js';
export { inspectCertificate, inspectCsr, type CertificateView, type CsrView, type NameView } from './pki/inspect.js';
export { parseSpec, validateSpec, specJsonSchema, type ClusterSpec, type MemberSpec, type ClientSpec, type CaSpec } from './cluster/spec.js';
export { layoutCluster, certificateIntents, type ClusterLayout, type MemberLayout, type ClientLayout, type CertificateIntent } from './cluster/layout.js';
export { renderConfigFiles, etcdEnvironment } from './cluster/render.js';
export { planCluster, readClusterState, type ClusterPlan, type PlannedCertificate, type PlannedFile } from './cluster/plan.js';
export { materializePlan, type MaterializeResult } from './cluster/materialize.js';
export { generateCluster, planFromSpec, readSpecFile } from './cluster/generate.js';
export { DEFAULT_SPEC_YAML } from './cluster/defaults.js';
export { checkHealth, memberList, memberUpdate, putKey, getKey, type Member, type ClientTls } from './etcd/gateway.js';
export { type Finding, type Severity, hasErrors, renderFindingsText, renderFindingsJson, summaryLine } from './doctor/findings.js';
export { runCheck, type CheckRequest, type CheckReport } from './doctor/check.js';
export { probeEndpoints, probeEndpoint, type ProbeOptions, type ProbeReport, type EndpointReport } from './doctor/probe.js';
export { CATALOGUE, explainLine, explainText, findEntry, type CatalogueEntry, type Explanation } from './doctor/catalogue.js';
export { migrateCluster, previewMigration, type MigrateOptions, type MigrationReport } from './doctor/migrate.js';
export { issueCrl, parseCrl, crlSignedBy, CRL_REASONS, type CrlReason, type CrlView, type CrlInput, type RevokedEntry } from './pki/crl.js';
export { renewCertificate } from './pki/renew.js';
export { collectStatus, type StatusReport, type StatusEntry, type StatusOptions } from './lifecycle/status.js';
export { renew, type RenewSelection, type RenewResult, type RenewedItem } from './lifecycle/renew.js';
export { revoke, type RevokeTargets, type RevokeResult } from './lifecycle/revoke.js';
export { resignCrl, readRevocationRecord, type RevocationRecord } from './lifecycle/crl.js';
export { readCaPrivateKey, loadCaIssuer, convertCaKey, PASSPHRASE_ENV, type PassphraseSource } from './lifecycle/ca-key.js';
