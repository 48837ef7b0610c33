/**
 * Reading the CA the cfssl-style commands are pointed at (certificate + key). cfssl also accepts
 * `file:PATH` and `env:VAR` for -ca and -ca-key. (Config files: readSigningConfig in config.ts.)
 */
import { fail } from '../errors.js';
import { loadCaIssuer, type Issuer, type PassphraseSource } from '../pki/certificate.js';
import { readTextArg } from '../store/files.js';

/** Text of a `-ca`/`-ca-key` style argument: a path, `file:PATH`, `env:VAR` or `-` (stdin). */
export async function readSourceArg(arg: string, what: string): Promise<{ text: string; source: string }> {
  if (arg.startsWith('env:')) {
    const name = arg.slice(4);
    const text = process.env[name];
    if (text === undefined || text.trim() === '') throw fail('EMPTY_INPUT', `${arg}: environment variable ${name} (${what}) is empty or not set`);
    return { text, source: arg };
  }
  return readTextArg(arg.startsWith('file:') ? arg.slice(5) : arg, what);
}

/** Load the CA named by -ca and -ca-key: the certificate must be a CA and the key must be its key. */
export async function readIssuer(caArg: string, caKeyArg: string, passphrase?: PassphraseSource): Promise<Issuer> {
  const cert = await readSourceArg(caArg, 'CA certificate');
  const key = await readSourceArg(caKeyArg, 'CA private key');
  // An encrypted CA key is decrypted with the passphrase the edge supplies (cli/passphrase.ts).
  return loadCaIssuer(cert.text, cert.source, key.text, key.source, passphrase);
}
