/**
 * Every code `etcd-tls check` can report, with a one-line title and the catalogue entries (`explain`)
 * that describe the failure it leads to. Codes are stable: add new ones, never reuse old ones.
 */
import type { CatalogueId } from '../explain/catalogue.js';
import type { Severity } from '../severity.js';

export interface CheckCodeInfo {
  title: string;
  /** Entries of the catalogue (explain/catalogue.ts). */
  seeAlso?: readonly CatalogueId[];
}

export const CHECK_CODES = {
  // Files
  'file-missing': { title: 'a certificate, key, CA or CRL file does not exist', seeAlso: ['tls-file-unusable'] },
  'cert-invalid': { title: 'a certificate file does not hold parsable PEM certificates', seeAlso: ['tls-file-unusable'] },
  'key-invalid': { title: 'a key file does not hold a parsable unencrypted private key', seeAlso: ['tls-file-unusable'] },
  'file-resolved-locally': { title: 'a configured path does not exist here; the file of that name beside the config was checked' },
  'key-file-permissions': { title: 'a private key file is readable by group or others' },
  'interrupted-write': { title: 'an etcd-tls run was killed while writing: its temp files or a half-applied batch are still there' },

  // One certificate
  'key-mismatch': { title: 'the private key does not belong to the certificate', seeAlso: ['key-mismatch'] },
  'cert-expired': { title: 'the certificate has expired', seeAlso: ['cert-expired'] },
  'cert-not-yet-valid': { title: 'the certificate is not valid yet', seeAlso: ['cert-expired'] },
  'cert-expiring-soon': { title: 'the certificate expires within 30 days', seeAlso: ['cert-expired'] },
  'sha1-signature': { title: 'the certificate is signed with SHA-1, which Go rejects' },
  'weak-rsa-key': { title: 'the RSA key is shorter than 2048 bits' },
  'san-empty-entry': { title: 'the certificate has an empty SAN entry' },
  'cert-cn-only': { title: 'a server or peer certificate has no SANs and relies on its Common Name', seeAlso: ['legacy-common-name'] },

  // Chain
  'cert-not-signed-by-ca': { title: 'no CA in the trusted CA file signed the certificate', seeAlso: ['unknown-authority'] },
  'cert-issuer-mismatch': { title: "the certificate's issuer name differs from the subject of the CA that signed it", seeAlso: ['unknown-authority'] },
  'cert-aki-mismatch': { title: "the certificate's authority key id differs from its CA's subject key id", seeAlso: ['unknown-authority'] },
  'chain-not-checked': { title: 'no CA was given, so the chain was not verified' },
  'ca-not-ca': { title: 'a certificate in a CA file is not a CA certificate', seeAlso: ['unknown-authority'] },
  'ca-has-eku': { title: 'a CA certificate carries an extended key usage list', seeAlso: ['eku-incompatible'] },
  'ca-rotation-in-progress': { title: 'a CA rotation (rotate-ca) is under way: two CAs, mixed issuers; the finding says the phase and the next step' },
  'ca-duplicate-subject': { title: 'two CAs in one trusted CA file share a subject name', seeAlso: ['unknown-authority'] },

  // Role (extended key usage)
  'server-cert-missing-serverauth': { title: 'the server certificate lacks the serverAuth extended key usage', seeAlso: ['eku-incompatible'] },
  'server-cert-missing-clientauth': { title: "the server certificate lacks clientAuth, which etcd's gRPC gateway needs", seeAlso: ['server-cert-missing-clientauth'] },
  'peer-cert-missing-serverauth': { title: 'the peer certificate lacks serverAuth', seeAlso: ['eku-incompatible'] },
  'peer-cert-missing-clientauth': { title: 'the peer certificate lacks clientAuth', seeAlso: ['eku-incompatible'] },
  'client-cert-missing-clientauth': { title: 'the client certificate lacks clientAuth', seeAlso: ['eku-incompatible'] },

  // SANs against the configuration
  'server-san-missing-host': { title: 'the server certificate does not cover an advertised client URL host', seeAlso: ['san-mismatch', 'no-ip-sans'] },
  'peer-san-missing-host': { title: 'the peer certificate does not cover an advertised peer URL host', seeAlso: ['san-mismatch', 'no-ip-sans'] },
  'peer-san-missing-listen-ip': { title: 'the peer certificate does not cover an address the member listens (and dials) on', seeAlso: ['peer-source-ip-not-in-san'] },
  'peer-san-dial-source': { title: 'the peer certificate must cover every address the member dials other peers from', seeAlso: ['peer-source-ip-not-in-san'] },

  // etcd configuration
  'setting-invalid': { title: 'etcd cannot parse a setting or the configuration file' },
  'env-flag-conflict': { title: 'a setting is given both as ETCD_* and as a flag', seeAlso: ['env-flag-conflict'] },
  'unknown-flag': { title: 'a flag etcd 3.4 does not know (etcd refuses to start)' },
  'unknown-env-variable': { title: 'an ETCD_* variable etcd 3.4 does not know (ignored)' },
  'removed-ca-file': { title: 'ETCD_CA_FILE / --ca-file no longer exists in etcd 3.4', seeAlso: ['removed-ca-file-flag'] },
  'yaml-key-ignored': { title: 'a YAML key etcd 3.4.23 ignores' },
  'config-file-ignores-flags': { title: 'with a config file etcd ignores every flag and ETCD_* variable' },
  'yaml-grpc-gateway-off': { title: 'under a 3.4 config file the gRPC gateway (/v3 JSON API) is off unless enabled' },
  'client-url-http-with-tls': { title: 'client TLS files are set but a client URL is http://', seeAlso: ['scheme-http-with-tls-files'] },
  'peer-url-http-with-tls': { title: 'peer TLS files are set but a peer URL is http://', seeAlso: ['scheme-http-with-tls-files', 'tls-plaintext-mismatch'] },
  'client-https-without-cert': { title: 'an https client URL without --cert-file/--key-file', seeAlso: ['tls-file-unusable'] },
  'peer-https-without-cert': { title: 'an https peer URL without --peer-cert-file/--peer-key-file', seeAlso: ['tls-file-unusable'] },
  'client-auth-disabled': { title: 'https client URLs without a trusted CA: any client can connect' },
  'peer-auth-disabled': { title: 'https peer URLs without a trusted CA: any host can join as a peer' },
  'client-cert-auth-without-ca': { title: '--client-cert-auth without --trusted-ca-file' },
  'peer-cert-auth-without-ca': { title: '--peer-client-cert-auth without --peer-trusted-ca-file' },
  'client-ca-without-cert-auth': { title: '--trusted-ca-file without --client-cert-auth', seeAlso: ['client-cert-missing'] },
  'peer-ca-without-cert-auth': { title: '--peer-trusted-ca-file without --peer-client-cert-auth' },
  'auto-tls-enabled': { title: 'auto-tls uses self-signed certificates that nobody verifies' },
  'client-advertise-not-listened': { title: 'an advertised client URL is not covered by any listen URL' },
  'peer-advertise-not-listened': { title: 'an advertised peer URL is not covered by any listen URL' },
  'initial-cluster-http': { title: 'initial-cluster lists http:// peer URLs', seeAlso: ['tls-plaintext-mismatch'] },
  'initial-cluster-mismatch': { title: "initial-cluster's entry for this member differs from its advertised peer URLs" },
  'cipher-suite-unknown': { title: 'cipher-suites names a suite Go does not know (etcd refuses to start)', seeAlso: ['cipher-suites-http2'] },
  'cipher-suites-missing-aes128gcm': { title: "cipher-suites lacks the HTTP/2-required AES_128_GCM suite for the certificate's key type", seeAlso: ['cipher-suites-http2'] },
  'crl-invalid': { title: 'the CRL file cannot be parsed' },
  'crl-not-signed-by-ca': { title: 'the CRL is not signed by the trusted CA' },
  'crl-stale': { title: "the CRL's nextUpdate has passed or is near (etcd still enforces it; re-sign it with etcd-tls crl)" },
  'crl-bypassed-by-http-listener': { title: 'with --listen-client-http-urls, etcd 3.5 < 3.5.32 and 3.6 < 3.6.13 skip the client CRL for gRPC (GHSA-3wh4-j44w-pg92)' },
} as const satisfies Record<string, CheckCodeInfo>;

export type CheckCode = keyof typeof CHECK_CODES;

/**
 * Build a finding for a registered code; its catalogue references come from the registry.
 * The result is a Finding (findings.ts), its type left to inference so this registry need not import it.
 */
export function finding(code: CheckCode, severity: Severity, subject: string, message: string, fix: string) {
  const seeAlso: readonly CatalogueId[] | undefined = (CHECK_CODES[code] as CheckCodeInfo).seeAlso;
  return { code, severity, subject, message, fix, ...(seeAlso ? { seeAlso: [...seeAlso] } : {}) };
}
