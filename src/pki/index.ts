/** The pure PKI core: bytes and typed objects in, bytes and typed objects out. No files, no argv. */
export * from './der.js';
export * from './keys.js';
export * from './name.js';
export * from './san.js';
export * from './duration.js';
export * from './extensions.js';
export * from './profile.js';
export * from './certificate.js';
export * from './csr.js';
export * from './issue.js';
export * from './renewal.js';
