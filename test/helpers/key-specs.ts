import type { KeySpec } from '../../src/pki/keys.js';

/** Every kind of key etcd-tls generates, one of each. */
export const GENERATED_KEY_SPECS: readonly KeySpec[] = [
  { algo: 'ecdsa', size: 256 },
  { algo: 'ecdsa', size: 384 },
  { algo: 'ecdsa', size: 521 },
  { algo: 'rsa', size: 2048 },
  { algo: 'ed25519', size: 0 },
];
