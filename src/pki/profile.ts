/**
 * Signing profiles are data: what a certificate issued under the profile may be. The named constants
 * are etcd's roles; cfssl configs are turned into the same shape by src/cfssl/config.ts.
 */
import { parseUsages, type PolicyInfo, type Usages } from './extensions.js';

export interface CaConstraint {
  isCA: boolean;
  /** Path length for issued CA certificates; undefined means unlimited. */
  maxPathLen?: number;
}

export interface Profile {
  name: string;
  usages: Usages;
  /** Validity from notBefore, in milliseconds. */
  expiryMs: number;
  /** How far notBefore is set before now (cfssl: 5 minutes, after rounding now to the minute). */
  backdateMs: number;
  /** Fixed validity window; overrides expiry/backdate when set (cfssl's not_before/not_after). */
  notBefore?: Date;
  notAfter?: Date;
  /** Set when the profile may issue CA certificates (cfssl's ca_constraint). */
  caConstraint?: CaConstraint;
  crlUrls?: string[];
  ocspUrls?: string[];
  issuerUrls?: string[];
  ocspNoCheck?: boolean;
  policies?: PolicyInfo[];
  /** CN, DNS SANs, emails and URIs must match (cfssl's name_whitelist). */
  nameWhitelist?: NamePattern;
}

/**
 * A compiled name_whitelist: `test` says whether a name matches anywhere (Go's MatchString). The cfssl
 * config reader builds it with an RE2 engine (linear time); a RegExp fits too, for trusted patterns.
 */
export interface NamePattern {
  source: string;
  test(name: string): boolean;
}

const HOUR = 3_600_000;
export const DEFAULT_BACKDATE_MS = 5 * 60_000;

function role(name: string, usages: string[], expiryMs: number): Profile {
  return { name, usages: parseUsages(usages), expiryMs, backdateMs: DEFAULT_BACKDATE_MS };
}

/**
 * etcd's roles. Server certificates carry clientAuth too: etcd 3.4's gRPC gateway dials the local
 * listener with the server certificate as its client certificate, and rejects it without clientAuth.
 */
export const ETCD_PROFILES = {
  server: role('server', ['digital signature', 'key encipherment', 'server auth', 'client auth'], 8760 * HOUR),
  peer: role('peer', ['digital signature', 'key encipherment', 'server auth', 'client auth'], 8760 * HOUR),
  client: role('client', ['digital signature', 'key encipherment', 'client auth'], 8760 * HOUR),
} as const;

/** A self-signed root CA: certSign + cRLSign, no EKU (Go rejects a CA whose EKU list is narrower than its leaves'). */
export function caProfile(expiryMs = 43800 * HOUR, maxPathLen?: number): Profile {
  return {
    name: 'ca',
    usages: parseUsages(['cert sign', 'crl sign']),
    expiryMs,
    backdateMs: DEFAULT_BACKDATE_MS,
    caConstraint: { isCA: true, ...(maxPathLen === undefined ? {} : { maxPathLen }) },
  };
}

/** cfssl's profile when no config is given. */
export const CFSSL_DEFAULT_PROFILE: Profile = role(
  'default',
  ['signing', 'key encipherment', 'server auth', 'client auth'],
  8760 * HOUR,
);
