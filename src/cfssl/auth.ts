/**
 * cfssl's "standard" authentication: a token that is the HMAC-SHA256 of the exact request bytes under
 * a shared key. The signing server checks it (service.ts); the remote client computes it (remote.ts).
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fail } from '../errors.js';

/** An `auth_keys` entry's key: hex, `env:VAR` or `file:PATH` (trimmed), hex-decoded: cfssl's auth key forms. */
export function resolveAuthKey(name: string, spec: { type: string; key: string }, source: string): Buffer {
  const where = `${source}: auth_keys.${name}`;
  if (spec.type !== 'standard') throw fail('BAD_CONFIG', `${where}.type: "${spec.type}" is not supported; only "standard" (HMAC-SHA256) is`);
  let hex = spec.key;
  if (hex.startsWith('env:')) {
    const v = process.env[hex.slice(4)];
    if (v === undefined) throw fail('BAD_CONFIG', `${where}.key: environment variable ${hex.slice(4)} is not set`);
    hex = v;
  } else if (hex.startsWith('file:')) {
    try {
      hex = readFileSync(hex.slice(5), 'utf8');
    } catch (e) {
      throw fail('BAD_CONFIG', `${where}.key: cannot read ${hex.slice(5)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  hex = hex.trim();
  if (hex === '' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) throw fail('BAD_CONFIG', `${where}.key: not a hex-encoded key`);
  return Buffer.from(hex, 'hex');
}

/** cfssl's token: HMAC-SHA256 of the exact request bytes under the key. */
export const authToken = (key: Buffer, request: Uint8Array): Buffer => createHmac('sha256', key).update(request).digest();

