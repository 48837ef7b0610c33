/**
 * The CA key as every signing command reads it: plain or encrypted PKCS#8, with the passphrase from
 * (in this order) a file, the ETCD_TLS_CA_PASSPHRASE variable, or a no-echo prompt when a terminal is
 * attached. One module, so gencert, sign, gen, renew, revoke and crl behave the same.
 */
import type { KeyObject } from 'node:crypto';
import { fail } from '../errors.js';
import { issuerFromKey, type Issuer } from '../pki/certificate.js';
import { decryptPrivateKeyPem, encodePrivateKeyPem, encryptPrivateKeyPem, isEncryptedKeyPem, parsePrivateKeyPem } from '../pki/keys.js';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { PRIVATE_FILE_MODE, readFileBytes, readTextFile, writeFileAtomic } from '../store/files.js';
import { withDirectoryLock } from '../store/lock.js';

export const PASSPHRASE_ENV = 'ETCD_TLS_CA_PASSPHRASE';

/** Where a passphrase may come from. The CLI builds this from --ca-passphrase-file and the terminal. */
export interface PassphraseSource {
  /** A file whose first line is the passphrase (a trailing newline is not part of it). */
  file?: string;
  /** The environment to read ETCD_TLS_CA_PASSPHRASE from (process.env by default). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Ask the user (no echo); absent when no terminal is attached. `confirm` asks twice (new keys). */
  prompt?: (question: string, confirm: boolean) => Promise<string>;
}

/** The passphrase from the first source that has one; undefined when none does. */
export async function obtainPassphrase(source: PassphraseSource, question: string, confirm = false): Promise<string | undefined> {
  if (source.file !== undefined) {
    const text = readFileBytes(source.file, 'CA passphrase file').toString('utf8');
    const line = text.split(/\r?\n/)[0] ?? '';
    if (line === '') throw fail('CA_PASSPHRASE_MISSING', `${source.file}: the passphrase file's first line is empty`);
    return line;
  }
  const fromEnv = (source.env ?? process.env)[PASSPHRASE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (source.prompt) {
    const answer = await source.prompt(question, confirm);
    if (answer === '') throw fail('CA_PASSPHRASE_MISSING', 'an empty passphrase was entered');
    return answer;
  }
  return undefined;
}

/** A passphrase for a key about to be encrypted: required, asked twice on a terminal. */
export async function newPassphrase(source: PassphraseSource, what: string): Promise<string> {
  const p = await obtainPassphrase(source, `passphrase for ${what}: `, true);
  if (p === undefined)
    throw fail('CA_PASSPHRASE_MISSING', `${what}: no passphrase to encrypt with: give --ca-passphrase-file FILE, set ${PASSPHRASE_ENV}, or run on a terminal`);
  return p;
}

/** Decode a CA private key PEM, decrypting it when it is encrypted. */
export async function readCaPrivateKey(keyPem: string, keySource: string, source: PassphraseSource = {}): Promise<KeyObject> {
  if (!isEncryptedKeyPem(keyPem)) return parsePrivateKeyPem(keyPem, keySource);
  const passphrase = await obtainPassphrase(source, `passphrase for ${keySource}: `);
  if (passphrase === undefined)
    throw fail('CA_PASSPHRASE_MISSING', `${keySource}: the CA key is encrypted: give --ca-passphrase-file FILE, set ${PASSPHRASE_ENV}, or run on a terminal`);
  return decryptPrivateKeyPem(keyPem, passphrase, keySource);
}

/** A CA ready to sign from its certificate and (possibly encrypted) key texts. */
export async function loadCaIssuer(certPem: string, certSource: string, keyPem: string, keySource: string, source: PassphraseSource = {}): Promise<Issuer> {
  return issuerFromKey(certPem, certSource, await readCaPrivateKey(keyPem, keySource, source), keySource);
}

/** The CA of a DIR from its files. Errors: CA_KEY_MISSING, KEY_MISMATCH, CA_PASSPHRASE_*. */
export async function readCaIssuerFiles(certPath: string, keyPath: string, source: PassphraseSource = {}): Promise<Issuer> {
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
export async function convertCaKey(dirArg: string, to: 'encrypted' | 'plain', source: PassphraseSource): Promise<ConvertResult> {
  const dir = path.resolve(dirArg);
  const certPath = path.join(dir, 'ca.pem');
  const keyPath = path.join(dir, 'ca-key.pem');
  return withDirectoryLock(dir, `etcd-tls ca ${to === 'encrypted' ? 'encrypt' : 'decrypt'}`, async () => {
    if (!existsSync(keyPath)) throw fail('CA_KEY_MISSING', `${keyPath}: the CA key does not exist`);
    const keyPem = readTextFile(keyPath, 'CA key');
    const encrypted = isEncryptedKeyPem(keyPem);
    if ((to === 'encrypted') === encrypted) return { file: keyPath, changed: false };
    // Decrypts (when encrypted) and checks the key against ca.pem before anything is written.
    const issuer = await loadCaIssuer(readTextFile(certPath, 'CA certificate'), certPath, keyPem, keyPath, source);
    const data = to === 'encrypted' ? encryptPrivateKeyPem(issuer.privateKey, await newPassphrase(source, keyPath)) : encodePrivateKeyPem(issuer.privateKey);
    writeFileAtomic({ path: keyPath, data, mode: PRIVATE_FILE_MODE });
    return { file: keyPath, changed: true };
  });
}
