/** `etcd-tls crl [DIR] [--next-update 168h]`: re-sign DIR's CRL from its record (for cron). */
import { resignCrl } from '../../lifecycle/crl.js';
import { dirArgument, parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';
import { CA_PASSPHRASE_FLAGS, passphraseSource } from '../passphrase.js';
import { DB_FLAG, withLedgerOption } from '../ledger-option.js';

const FLAGS = {
  'next-update': { type: 'string', value: 'DURATION', description: 'how long the new CRL is valid (default 168h)' },
  ...CA_PASSPHRASE_FLAGS,
  ...DB_FLAG,
  json: { type: 'boolean', description: 'print JSON instead of text' },
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls crl [DIR] [--next-update DURATION] [--db URL] [--json]',
    '',
    'Re-sign DIR/crl.der from DIR/revoked.json with a fresh thisUpdate/nextUpdate and the next CRL',
    'number, and copy it into every bundle. Run it daily from cron so the CRL never goes stale (etcd',
    'itself keeps enforcing a stale CRL, but `status` and `check` warn, and other verifiers refuse it).',
    'DIR defaults to ./etcd-tls-pki. With --db, the CRL lists the union of revoked.json and the ledger\'s',
    'revoked, unexpired rows of this CA (revocations made through `etcd-tls serve`), which are added to',
    'revoked.json so later CRLs keep them.',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    '  etcd-tls crl pki',
    '  etcd-tls crl pki --db postgres://etcd_tls:secret@db.example/etcd_ca',
    '  0 3 * * *  etcd-tls crl /srv/pki --ca-passphrase-file /root/.ca-pass && rsync ...   # crontab',
    '',
  ].join('\n');
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('crl', args, FLAGS);
  const result = await withLedgerOption(flags.db, (ledger) =>
    resignCrl(dirArgument('crl', positionals), {
      passphrase: passphraseSource(flags),
      ...(flags['next-update'] ? { nextUpdate: flags['next-update'] } : {}),
      ...(ledger ? { ledger } : {}),
    }),
  );
  io.out(
    flags.json
      ? `${JSON.stringify(result, null, 2)}\n`
      : `signed CRL #${result.crlNumber} ${result.file}: ${result.revoked} revoked${result.fromLedger ? ` (${result.fromLedger} added from the ledger)` : ''}, valid until ${result.nextUpdate}; copied into ${result.copies.length} bundle(s)\n`,
  );
  return 0;
}
