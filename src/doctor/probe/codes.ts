/**
 * Every code `etcd-tls probe` can report, with a one-line title and the catalogue entries (`explain`)
 * that describe the failure. Codes are stable: add new ones, never reuse old ones.
 */
import type { CatalogueId } from '../explain/catalogue.js';
import type { Severity } from '../severity.js';

export interface ProbeCodeInfo {
  title: string;
  severity: Severity;
  /** Entries of the catalogue (explain/catalogue.ts). */
  seeAlso: readonly CatalogueId[];
}

export const PROBE_CODES = {
  // Reaching the endpoint
  'endpoint-refused': { severity: 'error', title: 'nothing listens at the address and port', seeAlso: ['connection-refused'] },
  'endpoint-timeout': { severity: 'error', title: 'the endpoint did not answer in time', seeAlso: ['context-deadline-exceeded'] },
  'endpoint-unreachable': { severity: 'error', title: 'no route to the host, or its name does not resolve', seeAlso: [] },

  // Scheme
  'https-to-plaintext-port': { severity: 'error', title: 'https:// was used against a port that speaks plain HTTP', seeAlso: ['tls-plaintext-mismatch'] },
  'http-to-tls-port': { severity: 'error', title: 'http:// was used against a port that speaks TLS', seeAlso: ['http-client-on-https-port', 'tls-plaintext-mismatch'] },
  'plaintext-endpoint': { severity: 'warning', title: 'the client endpoint answers in plaintext', seeAlso: [] },

  // Handshake and the client certificate
  'tls-handshake-failed': { severity: 'error', title: 'the TLS handshake failed', seeAlso: ['cipher-suites-http2'] },
  'tls-version-old': { severity: 'warning', title: 'the endpoint negotiated TLS older than 1.2', seeAlso: [] },
  'client-cert-missing': { severity: 'error', title: 'the endpoint requires a client certificate and none was given', seeAlso: ['client-cert-missing', 'remote-bad-certificate'] },
  'client-cert-unknown-ca': { severity: 'error', title: 'the endpoint rejected a client certificate from another CA', seeAlso: ['unknown-authority', 'remote-bad-certificate'] },
  'client-cert-expired': { severity: 'error', title: 'the endpoint rejected an expired client certificate', seeAlso: ['cert-expired', 'remote-bad-certificate'] },
  'client-cert-missing-clientauth': { severity: 'error', title: 'the endpoint rejected a client certificate without clientAuth', seeAlso: ['eku-incompatible', 'remote-bad-certificate'] },
  'client-cert-rejected': { severity: 'error', title: 'the endpoint rejected the client certificate', seeAlso: ['remote-bad-certificate'] },

  // The server certificate, as a Go client (etcdctl, kube-apiserver) would verify it
  'ca-not-given': { severity: 'warning', title: 'no CA was given, so the server certificate was not verified', seeAlso: [] },
  'server-cert-unknown-ca': { severity: 'error', title: 'the server certificate does not chain to the CA given', seeAlso: ['unknown-authority'] },
  'server-cert-expired': { severity: 'error', title: 'a certificate of the server chain is expired or not yet valid', seeAlso: ['cert-expired'] },
  'server-san-mismatch': { severity: 'error', title: 'the server certificate does not cover the host dialled', seeAlso: ['san-mismatch'] },
  'server-no-ip-sans': { severity: 'error', title: 'dialled by IP address, the server certificate has no IP SANs', seeAlso: ['no-ip-sans'] },
  'server-cert-cn-only': { severity: 'error', title: 'the server certificate has no SANs, only a Common Name', seeAlso: ['legacy-common-name'] },
  'server-cert-missing-serverauth': { severity: 'error', title: 'a certificate of the server chain does not allow serverAuth', seeAlso: ['eku-incompatible'] },
  'server-cert-openssl-rejects': { severity: 'warning', title: 'OpenSSL rejects the server chain for a reason the Go-style checks did not find', seeAlso: [] },

  // /health and the JSON gateway
  'health-false': { severity: 'error', title: 'etcd answered /health, but not healthy', seeAlso: [] },
  'health-failed': { severity: 'error', title: 'the /health request failed', seeAlso: [] },
  'server-cert-missing-clientauth': { severity: 'error', title: "the server certificate lacks clientAuth, which etcd's gRPC gateway needs", seeAlso: ['server-cert-missing-clientauth'] },
  'gateway-unavailable': { severity: 'error', title: "/health answers but the JSON gateway (/v3/*) does not", seeAlso: ['server-cert-missing-clientauth', 'unknown-authority'] },
  'gateway-disabled': { severity: 'warning', title: 'the JSON gateway (/v3/*) is turned off', seeAlso: [] },
  'gateway-cn-with-auth': { severity: 'error', title: 'the gateway refuses client certificates with a CommonName under auth', seeAlso: ['gateway-cn-with-auth'] },

  // Members
  'peer-url-http': { severity: 'error', title: "a member's peer URL is still http://", seeAlso: ['tls-plaintext-mismatch', 'scheme-http-with-tls-files'] },
  'client-url-http': { severity: 'warning', title: 'a member advertises an http:// client URL', seeAlso: ['scheme-http-with-tls-files'] },
} as const satisfies Record<string, ProbeCodeInfo>;

export type ProbeCode = keyof typeof PROBE_CODES;

/**
 * A finding with the code's severity and catalogue ids; `severity` overrides where the context softens it.
 * The result is a Finding (findings.ts), its type left to inference so this registry need not import it.
 */
export function probeFinding(code: ProbeCode, subject: string, message: string, fix: string, severity?: Severity) {
  const info: ProbeCodeInfo = PROBE_CODES[code];
  return { code, severity: severity ?? info.severity, subject, message, fix, seeAlso: [...info.seeAlso] };
}
