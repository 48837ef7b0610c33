/**
 * The CA key of a DIR: read for signing (the reader itself is pki/certificate.ts's readCaPrivateKey,
 * shared by every signing command, the passphrase injected), and converted in place by
 * `etcd-tls ca encrypt|decrypt`.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fail } from '../errors.js';
import { loadCaIssuer, type Issuer, type PassphraseSource } from '../pki/certificate.js';
import { encodePrivateKeyPem, encryptPrivateKeyPem, isEncryptedKeyPem } from '../pki/keys.js';
import { PRIVATE_FILE_MODE, readTextFile, writeFileAtomic } from '../store/files.js';
import { withDirectoryLock } from '../store/lock.js';

export { loadCaIssuer, readCaPrivateKey, type PassphraseSource } from '../pki/certificate.js';

/** The variable the CLI reads a passphrase from (after --ca-passphrase-file). */
export const PASSPHRASE_ENV = 'ETCD_TLS_CA_PASSPHRASE';

/** A passphrase for a key about to be encrypted: required (asked twice on a terminal). */
export async function newPassphrase(source: PassphraseSource | undefined, what: string): Promise<string> {
  const p = await source?.(`passphrase for ${what}: `, true);
  if (p === undefined || p === '')
    throw fail('CA_PASSPHRASE_MISSING', `${what}: no passphrase to encrypt with: give --ca-passphrase-file FILE, set ${PASSPHRASE_ENV}, or run on a terminal`);
  return p;
}

/** The CA of a DIR from its files. Errors: CA_KEY_MISSING, KEY_MISMATCH, CA_PASSPHRASE_*. */
export async function readCaIssuerFiles(certPath: string, keyPath: string, source?: PassphraseSource): Promise<Issuer> {
  if (!existsSync(keyPath)) throw fail('CA_KEY_MISSING', `${keyPath}: the CA key does not exist; signing needs it (restore it, or run this where the CA key is kept)`);
  return loadCaIssuer(readTextFile(certPath, 'CA certificate'), certPath, readTextFile(keyPath, 'CA key'), keyPath, source);
}

export interface ConvertResult {
  file: string;
  /** False when the key already was in the asked-for form: nothing was written. */
  changed: boolean;
}

/**
 * `etcd-tls ca encrypt|decrypt`: rewrite DIR's CA key in place, atomically (temp file, flush,
 * rename, 0600). The key must still match ca.pem; a wrong passphrase writes nothing.
 */
export async function convertCaKey(dirArg: string, to: 'encrypted' | 'plain', source?: PassphraseSource): Promise<ConvertResult> {
  const dir = path.resolve(dirArg);
  const certPath = path.join(dir, 'ca.pem');
  const keyPath = path.join(dir, 'ca-key.pem');
  return withDirectoryLock(dir, `etcd-tls ca ${to === 'encrypted' ? 'encrypt' : 'decrypt'}`, async () => {
    if (!existsSync(keyPath)) throw fail('CA_KEY_MISSING', `${keyPath}: the CA key does not exist`);
    const keyPem = readTextFile(keyPath, 'CA key');
    if ((to === 'encrypted') === isEncryptedKeyPem(keyPem)) return { file: keyPath, changed: false };
    // Decrypts (when encrypted) and checks the key against ca.pem before anything is written.
    const issuer = await loadCaIssuer(readTextFile(certPath, 'CA certificate'), certPath, keyPem, keyPath, source);
    const data = to === 'encrypted' ? encryptPrivateKeyPem(issuer.privateKey, await newPassphrase(source, keyPath)) : encodePrivateKeyPem(issuer.privateKey);
    writeFileAtomic({ path: keyPath, data, mode: PRIVATE_FILE_MODE });
    return { file: keyPath, changed: true };
  });
}
