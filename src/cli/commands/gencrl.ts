/** `etcd-tls gencrl SERIALS CA CA_KEY [TIME]`: cfssl's gencrl (base64 DER on stdout). */
import { existsSync } from 'node:fs';
import { fail } from '../../errors.js';
import { genCrl, GENCRL_DEFAULT_SECONDS, parseExpirySeconds, parseSerialList } from '../../cfssl/gencrl.js';
import { readIssuer, readSourceArg } from '../../cfssl/inputs.js';
import { systemClock } from '../../pki/issue.js';
import { parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';
import { CA_PASSPHRASE_FLAGS, passphraseSource } from '../passphrase.js';
import { DB_FLAG, withLedgerOption } from '../ledger-option.js';
import { ledgerAki } from '../../lifecycle/ledger.js';
import { ledgerFailure } from '../../ledger/failure.js';

const FLAGS = {
  loglevel: { type: 'string', value: 'N', description: 'accepted for cfssl compatibility; ignored' },
  ...CA_PASSPHRASE_FLAGS,
  ...DB_FLAG,
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls gencrl SERIALS CA CA_KEY [TIME] [--db URL]',
    '',
    "cfssl's gencrl: a CRL signed by CA revoking the serial numbers in SERIALS (decimal, one per line, as",
    'cfssl reads them; - for stdin), valid for TIME seconds (default 604800 = 7 days), printed as base64',
    'DER. TIME is a number or, as cfssl 1.2.0 reads it, a file holding the number. Write it for etcd with',
    '`base64 -d > crl.der`. For a DIR made by gen, prefer `etcd-tls revoke`, which keeps a record.',
    "With --db, the CRL also lists the ledger's revoked, unexpired certificates of CA (by its key",
    'identifier): the union of SERIALS and the ledger, as `etcd-tls serve` serves it on /crl.',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Example:',
    '  etcd-tls gencrl serials.txt ca.pem ca-key.pem 86400 | base64 -d > crl.der',
    '  etcd-tls gencrl serials.txt ca.pem ca-key.pem --db postgres://etcd_tls:secret@db.example/etcd_ca',
    '',
  ].join('\n');
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('gencrl', args, FLAGS);
  if (positionals.length < 3 || positionals.length > 4)
    throw fail('USAGE', `gencrl: expected SERIALS CA CA_KEY [TIME], got ${positionals.length} argument(s) (see 'etcd-tls gencrl --help')`);
  const [serialsArg, caArg, keyArg, timeArg] = positionals as [string, string, string, string | undefined];
  const serials = await readSourceArg(serialsArg, 'serial list');
  const list = parseSerialList(serials.text, serials.source);
  let seconds = GENCRL_DEFAULT_SECONDS;
  if (timeArg !== undefined) {
    const fromFile = !/^\d+$/.test(timeArg) || existsSync(timeArg) ? await readSourceArg(timeArg, 'expiry') : { text: timeArg, source: 'TIME' };
    seconds = parseExpirySeconds(fromFile.text, fromFile.source);
  }
  const issuer = await readIssuer(caArg, keyArg, passphraseSource(flags));
  const fromLedger = await withLedgerOption(flags.db, async (ledger) =>
    ledger ? (await ledger.revokedUnexpired(ledgerAki(issuer), systemClock.now()).catch((e: unknown) => Promise.reject(ledgerFailure(e, 'no CRL was made')))).map((r) => BigInt(r.serialNumber)) : [],
  );
  const union = [...new Set([...list, ...fromLedger])];
  io.out(genCrl(union, issuer, seconds, systemClock));
  return 0;
}
