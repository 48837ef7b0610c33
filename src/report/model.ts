/** What the HTML report shows: plain data, built by report.ts, rendered by html.ts. */
import type { Finding } from '../doctor/findings.js';

export type CertificateRole = 'ca' | 'server' | 'peer' | 'client';

export interface ReportCertificate {
  /** `ca`, `ca #2`, `member1/server`, `admin`… */
  name: string;
  role: CertificateRole;
  /** The member or client bundle it belongs to (`member1`), or `ca`. */
  bundle: string;
  commonName: string;
  subject: string;
  /** Name of the CA entry that signed it (`ca`, `ca #2`), or `unknown`. */
  issuedBy: string;
  sans: string[];
  keyType: string;
  notBefore: Date;
  notAfter: Date;
  /** How long before notAfter renewal is due (pki/renewal.ts). */
  renewalWindowMs: number;
  level: 'ok' | 'warn' | 'critical';
  problems: string[];
}

export interface ReportModel {
  dir: string;
  now: Date;
  /** Every CA in DIR/ca.pem: two during a CA rotation. */
  cas: ReportCertificate[];
  leaves: ReportCertificate[];
  /** Files the layout expects but that are missing or unreadable, from status. */
  otherProblems: { name: string; problems: string[] }[];
  /** `check` findings, most severe first. */
  findings: Finding[];
}
