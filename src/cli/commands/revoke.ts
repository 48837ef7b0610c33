/** `etcd-tls revoke [DIR] (--client NAME | --member NAME | --serial HEX)… [--reason R]`: record and publish a revocation. */
import { CRL_REASONS } from '../../pki/crl.js';
import { revoke } from '../../lifecycle/revoke.js';
import { dirArgument, parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';
import { CA_PASSPHRASE_FLAGS, passphraseSource } from '../passphrase.js';
import { DB_FLAG, withLedgerOption } from '../ledger-option.js';

const FLAGS = {
  member: { type: 'string', multiple: true, value: 'NAME', description: "revoke a member's server and peer certificates (repeatable)" },
  client: { type: 'string', multiple: true, value: 'NAME', description: "revoke a client's certificate (repeatable)" },
  serial: { type: 'string', multiple: true, value: 'HEX', description: 'revoke a serial number this CA issued (repeatable)' },
  reason: { type: 'string', value: 'REASON', description: `${Object.keys(CRL_REASONS).join('|')} (default unspecified)` },
  'next-update': { type: 'string', value: 'DURATION', description: 'validity of the new CRL (default 168h)' },
  ...CA_PASSPHRASE_FLAGS,
  ...DB_FLAG,
  json: { type: 'boolean', description: 'print JSON instead of text' },
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls revoke [DIR] (--client NAME | --member NAME | --serial HEX)... [--reason REASON] [--db URL] [--json]',
    '',
    'Record the revocation in DIR/revoked.json and write a CRL signed by the CA to DIR/crl.der and into',
    "every nodes/<member>/ and clients/<client>/ bundle. etcd (configured by gen with ETCD_CLIENT_CRL_FILE",
    'and ETCD_PEER_CRL_FILE) re-reads the CRL on every new connection: once the file is on a member host,',
    'the revoked certificate is refused there without a restart. Nothing is reissued: the output says',
    'what to do next (renew --rekey for a compromised key, or removing the member). Revoking twice is a',
    'no-op that says so. DIR defaults to ./etcd-tls-pki.',
    '',
    "With --db, the ledger's row of each certificate is marked revoked (reason, time) before any file is",
    'written, and the CRL lists the union of revoked.json and the ledger\'s revoked rows of this CA (those',
    'made through `etcd-tls serve` are added to revoked.json). If the ledger fails, nothing is written.',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    '  etcd-tls revoke pki --client admin --reason keyCompromise',
    '  etcd-tls revoke pki --member member3 --reason cessationOfOperation',
    '  etcd-tls revoke pki --serial 7a:1b:2c:3d',
    '  etcd-tls revoke pki --client admin --reason keyCompromise --db pki-ledger.db',
    '',
  ].join('\n');
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('revoke', args, FLAGS);
  const dir = dirArgument('revoke', positionals);
  const result = await withLedgerOption(flags.db, (ledger) =>
    revoke(
      dir,
      { members: flags.member ?? [], clients: flags.client ?? [], serials: flags.serial ?? [], ...(flags.reason ? { reason: flags.reason } : {}) },
      { passphrase: passphraseSource(flags), warn: io.warn, ...(flags['next-update'] ? { nextUpdate: flags['next-update'] } : {}), ...(ledger ? { ledger } : {}) },
    ),
  );
  if (flags.json) {
    io.out(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  const label = (i: { name?: string; serial: string }): string => (i.name ? `${i.name} (serial ${i.serial})` : `serial ${i.serial}`);
  const lines = [
    ...result.revoked.map((i) => `revoked ${label(i)}: ${i.reason}`),
    ...result.alreadyRevoked.map((i) => `already revoked ${label(i)} since ${i.revokedAt} (${i.reason}); unchanged`),
  ];
  for (const e of result.fromLedger ?? []) lines.push(`added from the ledger: serial ${e.serial} revoked ${e.revokedAt} (${e.reason})`);
  if (result.crl) lines.push(`signed CRL #${result.crl.crlNumber} ${result.crl.file} (next update ${result.crl.nextUpdate}) and copied it into ${result.crl.copies} bundle(s)`);
  else lines.push('nothing to do: everything named was already revoked; nothing was written');
  if (result.nextSteps.length) lines.push('next:', ...result.nextSteps.map((s) => `  - ${s}`));
  io.out(`${lines.join('\n')}\n`);
  return 0;
}
