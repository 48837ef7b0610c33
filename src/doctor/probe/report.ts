/**
 * What a probe reports: the shapes probe.ts fills and findings.ts reads. Apart from both so the two
 * modules do not import each other.
 */
import type { Finding } from '../findings.js';
import type { ChainEntry } from './verify.js';

/** PEM texts to probe with, and the file names that messages show. */
export interface ProbeCredentials {
  ca?: string;
  cert?: string;
  key?: string;
  caSource?: string;
  certSource?: string;
}

export interface ProbeOptions {
  credentials?: ProbeCredentials;
  timeoutMs?: number;
  /** The time certificates are checked against; injected so tests are exact. */
  now?: () => Date;
}

export type StepStatus = 'ok' | 'failed' | 'skipped';

export interface StepReport {
  status: StepStatus;
  /** One line: what was seen, or why the step failed or was skipped. */
  detail: string;
}

export interface TlsReport {
  protocol?: string;
  cipher?: string;
  handshake: StepReport;
  /** Leaf first, as the server presented it (plus the CA from the CA file that completed it). */
  chain: ChainEntry[];
  verification: StepReport;
  clientCertificate: StepReport;
}

/** A member as `etcdctl member list` shows it: the ID in hex; `id` is the decimal the gateway uses. */
export interface MemberReport {
  id: string;
  idHex: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export interface EndpointReport {
  /** `https://127.0.0.61:2379` */
  endpoint: string;
  reachable: boolean;
  /** Absent for http:// endpoints and when the TCP connection failed. */
  tls?: TlsReport;
  health: StepReport & { healthy?: boolean };
  members: StepReport & { list?: MemberReport[] };
  findings: Finding[];
}

export interface ProbeReport {
  endpoints: EndpointReport[];
  /** Every endpoint's findings, repeats (the same member seen from several endpoints) removed. */
  findings: Finding[];
}

export interface ParsedEndpoint {
  /** `https://host:port`, the form used in every message. */
  origin: string;
  scheme: 'http' | 'https';
  /** As in the URL; IPv6 in brackets. */
  host: string;
  port: number;
}
