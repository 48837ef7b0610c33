/**
 * A directory in the middle of `etcd-tls rotate-ca`: two CAs (DIR/ca.pem and DIR/ca-next.pem),
 * old+new bundles, leaves of both issuers. That is expected, so `check` must not call it broken; it
 * says which phase the rotation is in and what comes next, and still reports what would break (a
 * leaf of the new CA beside a bundle that does not trust it).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { NEXT_CA_CERT } from '../../cluster/layout.js';
import { rotationStatus } from '../../cluster/rotation-state.js';
import { parseCertificate, type ParsedCertificate } from '../../pki/certificate.js';
import { parsePemBlocks } from '../../pki/pem.js';
import { finding } from './codes.js';
import type { Finding } from '../findings.js';

const CHAIN_CODES = new Set(['cert-not-signed-by-ca', 'cert-issuer-mismatch', 'cert-aki-mismatch']);

function facts(file: string): ParsedCertificate[] {
  try {
    return parsePemBlocks(readFileSync(file, 'utf8'))
      .filter((b) => b.label === 'CERTIFICATE')
      .map((b) => parseCertificate(Buffer.from(b.der), file));
  } catch {
    return [];
  }
}

const issuedBy = (leaf: ParsedCertificate, ca: ParsedCertificate): boolean =>
  leaf.issuerDer.equals(ca.subjectDer) && (!ca.subjectKeyId || leaf.authorityKeyId === ca.subjectKeyId);

/**
 * Adjust `check`'s findings for a DIR in the middle of a rotation: a leaf that the one CA did not
 * issue because the other did is expected, and so is the old+new bundle's shared subject; everything
 * else stays. Adds one info finding that names the phase and the next step.
 */
export function rotationFindings(dir: string, findings: readonly Finding[], display: (file: string) => string): Finding[] {
  const status = rotationStatus(dir);
  if (!status) return [...findings];
  const oldCa = facts(path.join(dir, 'ca.pem'))[0];
  const nextCa = facts(path.join(dir, NEXT_CA_CERT))[0];
  const cas = [oldCa, nextCa].filter((c): c is ParsedCertificate => c !== undefined);
  const primaries = [path.join(dir, 'ca.pem'), path.join(dir, NEXT_CA_CERT)].map(display);
  const byBoth = (subject: string): boolean => {
    const file = path.resolve(subject);
    const leaf = facts(file)[0];
    return leaf !== undefined && cas.some((ca) => issuedBy(leaf, ca));
  };
  const pairBundle = (subject: string): boolean => {
    const certs = facts(path.resolve(subject));
    return certs.length === 2 && cas.length === 2 && certs.every((c) => cas.some((ca) => ca.der.equals(c.der)));
  };
  const mixed = { old: 0, next: 0 };
  const kept = findings.filter((f) => {
    if (CHAIN_CODES.has(f.code) && primaries.some((p) => f.message.includes(` in ${p} `)) && byBoth(f.subject)) return false;
    if (f.code === 'ca-duplicate-subject' && pairBundle(f.subject)) return false;
    return true;
  });
  for (const sub of ['nodes', 'clients']) {
    const base = path.join(dir, sub);
    if (!existsSync(base)) continue;
    for (const unit of readdirNames(base)) {
      for (const name of ['server.pem', 'peer.pem', 'client.pem']) {
        const leaf = facts(path.join(base, unit, name))[0];
        if (!leaf) continue;
        if (oldCa && issuedBy(leaf, oldCa)) mixed.old++;
        else if (nextCa && issuedBy(leaf, nextCa)) mixed.next++;
      }
    }
  }
  const where = status.total > 0 ? `${status.done} of ${status.total} steps done` : 'no step recorded';
  const next = status.next ? `; next: ${status.next.id} (${status.next.title})` : '';
  kept.push(
    finding(
      'ca-rotation-in-progress',
      'info',
      display(status.file),
      `a CA rotation is in phase ${status.phase} (${status.phaseTitle}): ${where}${next}; leaves: ${mixed.old} issued by the old CA, ${mixed.next} by the new one`,
      'run `etcd-tls rotate-ca --spec SPEC --out DIR` to continue it (gen refuses until it is done)',
    ),
  );
  return kept;
}

function readdirNames(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}
