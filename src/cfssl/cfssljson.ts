/**
 * cfssljson: turn cfssl's JSON output into files (`ca.pem`, `ca-key.pem`, `ca.csr`...). Same names
 * and inputs as cfssljson; unlike it, key files are 0600 even when they replace an existing file
 * (the store chmods), the batch lands whole or not at all, and an existing CA key is never replaced
 * without -force.
 */
import { createPrivateKey } from 'node:crypto';
import { fail } from '../errors.js';
import { parseCertificate } from '../pki/certificate.js';
import { parseCertificatePem } from '../pki/pem.js';
import { PRIVATE_FILE_MODE, PUBLIC_FILE_MODE, readFileIfExists, type FileToWrite } from '../store/files.js';
import { jsonType } from './fields.js';
import type { JsonDocument, JsonObject, JsonValue } from './json.js';

/** One output of cfssljson, in its -stdout order. */
export interface CfssljsonItem {
  /** The file name suffix after BASENAME: `.pem`, `-key.pem`, `.csr`... */
  suffix: string;
  /** Text as it appears in the JSON (base64 for the binary items). */
  text: string;
  binary: boolean;
  mode: number;
}

const isObject = (v: JsonValue | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function field(obj: JsonObject, source: string, ...names: string[]): string | undefined {
  for (const name of names) {
    if (!Object.hasOwn(obj, name)) continue;
    const v = obj[name] as JsonValue;
    if (typeof v !== 'string') throw fail('BAD_FIELD', `${source}: ${name}: expected a string, got ${jsonType(v)}`);
    return v;
  }
  return undefined;
}

/**
 * The result object: the input itself with -bare, else the `result` of a cfssl API envelope
 * (`{"success":true,"result":{...}}`).
 */
export function cfssljsonResult(doc: JsonDocument, bare: boolean): JsonObject {
  const { value, source } = doc;
  if (!isObject(value)) throw fail('BAD_FIELD', `${source}: expected a JSON object, got ${jsonType(value)}`);
  if (bare) return value;
  if (!Object.hasOwn(value, 'success')) {
    const hint = ['cert', 'key', 'csr', 'certificate'].some((k) => Object.hasOwn(value, k))
      ? '; this is the output of a command, not an API response: pass -bare'
      : '';
    throw fail('MISSING_FIELD', `${source}: success: missing (expected a cfssl API response)${hint}`);
  }
  if (value.success !== true) {
    const errors = Array.isArray(value.errors) ? value.errors : [];
    const messages = errors.map((e) => (isObject(e) && typeof e.message === 'string' ? e.message : JSON.stringify(e)));
    throw fail('BAD_FIELD', `${source}: the request failed${messages.length ? `: ${messages.join('; ')}` : ''}`);
  }
  if (!isObject(value.result)) throw fail('BAD_FIELD', `${source}: result: expected an object, got ${jsonType(value.result ?? null)}`);
  return value.result;
}

/** What cfssljson would write, in its order: cert, key, encrypted key, csr, bundle, root, OCSP response. */
export function cfssljsonItems(result: JsonObject, source: string): CfssljsonItem[] {
  const items: CfssljsonItem[] = [];
  const add = (suffix: string, text: string | undefined, mode: number, binary = false): void => {
    if (text !== undefined) items.push({ suffix, text, mode, binary });
  };
  add('.pem', field(result, source, 'cert', 'certificate'), PUBLIC_FILE_MODE);
  add('-key.pem', field(result, source, 'key', 'private_key'), PRIVATE_FILE_MODE);
  add('-key.enc', field(result, source, 'encrypted_key'), PRIVATE_FILE_MODE, true);
  add('.csr', field(result, source, 'csr', 'certificate_request'), PUBLIC_FILE_MODE);
  const bundle = result.bundle;
  if (bundle !== undefined) {
    if (!isObject(bundle)) throw fail('BAD_FIELD', `${source}: bundle: expected an object, got ${jsonType(bundle)}`);
    const chain = field(bundle, `${source}: bundle`, 'bundle');
    const root = field(bundle, `${source}: bundle`, 'root');
    if (chain !== undefined && root !== undefined) {
      add('-bundle.pem', `${chain}\n${root}`, PUBLIC_FILE_MODE);
      add('-root.pem', root, PUBLIC_FILE_MODE);
    }
  }
  add('-response.der', field(result, source, 'ocspResponse'), PUBLIC_FILE_MODE, true);
  if (items.length === 0)
    throw fail('MISSING_FIELD', `${source}: no "cert", "key" or "csr" field: nothing to write`);
  return items;
}

/** The -stdout rendering: each item followed by a newline, binary items as their base64 text. */
export function renderCfssljsonStdout(items: readonly CfssljsonItem[]): string {
  return items.map((i) => `${i.text}\n`).join('');
}

function decodeBinary(text: string, where: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0)
    throw fail('BAD_FIELD', `${where}: expected base64 data`);
  return Buffer.from(compact, 'base64');
}

/** What `certPath` holds: a CA certificate, a leaf certificate (PEM or DER), or nothing provable. */
function certificateKind(certPath: string): 'ca' | 'leaf' | 'unknown' {
  try {
    const bytes = readFileIfExists(certPath, 'certificate');
    if (!bytes) return 'unknown';
    const text = bytes.toString('latin1');
    const der = text.includes('-----BEGIN') ? parseCertificatePem(text, certPath) : bytes;
    return parseCertificate(der, certPath).isCA ? 'ca' : 'leaf';
  } catch {
    return 'unknown';
  }
}

function isPrivateKey(bytes: Buffer): boolean {
  try {
    createPrivateKey(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * The files for BASENAME. An existing private key `BASENAME-key.pem` is not replaced by a different
 * key without `force` (WOULD_OVERWRITE) unless `BASENAME.pem` on disk is provably a leaf certificate: losing a CA
 * key loses the CA, and a missing, DER or unreadable `BASENAME.pem` proves nothing.
 */
export function cfssljsonFiles(items: readonly CfssljsonItem[], basename: string, source: string, force: boolean): FileToWrite[] {
  const files = items.map((i) => ({
    path: `${basename}${i.suffix}`,
    data: i.binary ? decodeBinary(i.text, `${source}: ${i.suffix}`) : i.text,
    mode: i.mode,
  }));
  const keyFile = files.find((f) => f.path === `${basename}-key.pem`);
  const existing = keyFile && !force ? readFileIfExists(keyFile.path, 'existing key') : undefined;
  if (keyFile && existing && !existing.equals(Buffer.from(keyFile.data)) && isPrivateKey(existing)) {
    const kind = certificateKind(`${basename}.pem`);
    if (kind === 'ca')
      throw fail('WOULD_OVERWRITE', `${keyFile.path}: is the key of the CA ${basename}.pem; refusing to replace it (replacing it loses the CA: move it away, or pass -force)`);
    if (kind === 'unknown')
      throw fail('WOULD_OVERWRITE', `${keyFile.path}: is a private key and ${basename}.pem is missing or unreadable, so it may be a CA key; refusing to replace it (replacing a CA key loses the CA: move it away, or pass -force)`);
  }
  return files;
}
