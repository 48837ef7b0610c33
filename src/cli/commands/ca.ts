/** `etcd-tls ca encrypt|decrypt [DIR]`: convert DIR's CA key in place, atomically. */
import { fail } from '../../errors.js';
import { convertCaKey } from '../../lifecycle/ca-key.js';
import { dirArgument, parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';
import { CA_PASSPHRASE_FLAGS, passphraseSource } from '../passphrase.js';

const FLAGS = {
  ...CA_PASSPHRASE_FLAGS,
  json: { type: 'boolean', description: 'print JSON instead of text' },
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls ca encrypt [DIR] [--ca-passphrase-file F]',
    '       etcd-tls ca decrypt [DIR] [--ca-passphrase-file F]',
    '',
    'encrypt: rewrite DIR/ca-key.pem (default DIR ./etcd-tls-pki) as encrypted PKCS#8 (PBKDF2 +',
    'AES-256-CBC; `openssl pkey -in ca-key.pem -passin file:F` reads it). decrypt: back to a plain key.',
    'The passphrase comes from --ca-passphrase-file, $ETCD_TLS_CA_PASSPHRASE, or a no-echo prompt on a',
    'terminal (asked twice when encrypting). The key is checked against ca.pem first and replaced',
    'atomically (0600); a wrong passphrase writes nothing. Every signing command (gencert, sign, gen,',
    'renew, revoke, crl) then asks for the passphrase the same way.',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    '  etcd-tls ca encrypt pki --ca-passphrase-file /root/ca.pass',
    '  ETCD_TLS_CA_PASSPHRASE=... etcd-tls ca decrypt pki',
    '',
  ].join('\n');
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('ca', args, FLAGS);
  const [action, ...rest] = positionals;
  if (action !== 'encrypt' && action !== 'decrypt') throw fail('USAGE', `ca: expected 'encrypt' or 'decrypt', got ${action === undefined ? 'nothing' : JSON.stringify(action)} (see 'etcd-tls ca --help')`);
  const result = await convertCaKey(dirArgument('ca', rest), action === 'encrypt' ? 'encrypted' : 'plain', passphraseSource(flags));
  if (flags.json) io.out(`${JSON.stringify({ ...result, action }, null, 2)}\n`);
  else io.out(result.changed ? `${action}ed ${result.file}\n` : `${result.file} is already ${action === 'encrypt' ? 'encrypted' : 'not encrypted'}; nothing was written\n`);
  return 0;
}
