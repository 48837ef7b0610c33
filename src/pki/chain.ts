/**
 * Building a certificate chain the way Go's crypto/x509 does (what etcd, etcdctl and kube-apiserver
 * use): a certificate's parent is a certificate whose subject is, byte for byte, its issuer name and
 * whose key made its signature. The authority key id is only a hint to Go, so a mismatch does not break
 * the chain (OpenSSL is stricter; callers report that apart). `check` (files) and `probe` (what a
 * server presented) both build their chains here and differ only in how they word what they find.
 *
 * Pure: parsed certificates in, a path out.
 */
import { signatureVerifies, type ParsedCertificate } from './certificate.js';

/** A parsed certificate, as check and probe both hold it. */
export type ChainLink = ParsedCertificate;

/** Go refuses longer chains long before this; it bounds the walk over a hostile bundle. */
export const MAX_CHAIN_LENGTH = 8;

/** True when `issuer`'s key made `cert`'s signature. */
export function signedBy(cert: ChainLink, issuer: ChainLink): boolean {
  return signatureVerifies(cert, issuer);
}

/** Go's parent rule: the issuer name matches byte for byte, and the key verifies the signature. */
export const issuedBy = (cert: ChainLink, issuer: ChainLink): boolean => cert.issuerDer.equals(issuer.subjectDer) && signedBy(cert, issuer);

export interface ChainPath<T extends ChainLink> {
  /** Leaf first, then each intermediate used; the anchor is not repeated unless it is the leaf itself. */
  path: T[];
  /** The trusted certificate the chain ends at; absent when it does not verify. */
  anchor?: T;
  /** When it does not verify: the last certificate reached, which nothing trusted issued. */
  stuck?: T;
  /** A certificate whose key signed `stuck` under another subject name: Go does not find it (a renamed CA). */
  misnamedSigner?: T;
}

/**
 * The path from `leaf` through `intermediates` to one of `roots`, trying roots before intermediates at
 * each step as Go prefers the shorter chain.
 *
 * @example
 *   const { anchor, stuck } = buildChain(leaf, [], cas);
 *   if (!anchor) console.log(`no CA issued ${stuck.serialHex}`);
 */
export function buildChain<T extends ChainLink>(leaf: T, intermediates: readonly T[], roots: readonly T[]): ChainPath<T> {
  const path: T[] = [leaf];
  const anchor = roots.find((r) => r.der.equals(leaf.der));
  if (anchor) return { path, anchor };
  for (;;) {
    const current = path[path.length - 1] as T;
    const root = roots.find((r) => issuedBy(current, r));
    if (root) return { path, anchor: root };
    const next = intermediates.find((c) => !path.includes(c) && issuedBy(current, c));
    if (next && path.length < MAX_CHAIN_LENGTH) {
      path.push(next);
      continue;
    }
    const misnamedSigner = [...roots, ...intermediates].find((c) => c !== current && !path.includes(c) && signedBy(current, c));
    return { path, stuck: current, ...(misnamedSigner ? { misnamedSigner } : {}) };
  }
}
