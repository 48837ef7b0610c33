/** `etcd-tls renew [DIR] [--member NAME]… [--client NAME]… [--within D | --all] [--rekey]`: reissue leaves in place. */
import { fail } from '../../errors.js';
import { parseDuration } from '../../pki/duration.js';
import { renew } from '../../lifecycle/renew.js';
import { dirArgument, parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';
import { CA_PASSPHRASE_FLAGS, passphraseSource } from '../passphrase.js';
import { withoutTornWrites } from '../run.js';
import { DB_FLAG, withLedgerOption } from '../ledger-option.js';

const FLAGS = {
  member: { type: 'string', multiple: true, value: 'NAME', description: "renew a member's server and peer certificates (repeatable)" },
  client: { type: 'string', multiple: true, value: 'NAME', description: "renew a client's certificate (repeatable)" },
  within: { type: 'string', value: 'DURATION', description: 'renew only what expires within DURATION (e.g. 30d)' },
  all: { type: 'boolean', description: 'renew every certificate (of the named ones, or of DIR), due or not' },
  rekey: { type: 'boolean', description: 'a new key for each renewed certificate (default: keep the key)' },
  ...CA_PASSPHRASE_FLAGS,
  ...DB_FLAG,
  json: { type: 'boolean', description: 'print JSON instead of text' },
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls renew [DIR] [--member NAME]... [--client NAME]... [--within DURATION | --all] [--rekey] [--db URL] [--json]',
    '',
    "Reissue certificates of DIR (default ./etcd-tls-pki) from its CA, keeping each one's subject, SANs,",
    'key usages and lifetime, with a fresh validity window and serial. The key stays the same unless',
    '--rekey. Named certificates are renewed as asked; with no name, only those inside the renewal window',
    '(the rule gen uses), or within --within, or all with --all.',
    '',
    'Each file is replaced atomically; a same-key renewal never lets a reader pair a certificate with the',
    "wrong key, and --rekey replaces the key before the certificate (docs/day2.md). The output says who",
    'picks the change up how: etcd members at their next TLS handshake (no restart), kube-apiserver at',
    'its restart, other clients on their next connection.',
    '',
    'With --db, each renewed certificate is recorded in that ledger (as `etcd-tls serve --db` records what',
    'it signs) and committed before any file is replaced; if the ledger fails, nothing is written.',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    '  etcd-tls renew pki --member member1',
    '  etcd-tls renew pki --within 30d            # cron: whatever expires within 30 days',
    '  etcd-tls renew pki --client admin --rekey  # after revoke --client admin --reason keyCompromise',
    '  etcd-tls renew pki --all --db postgres://etcd_tls:secret@db.example/etcd_ca',
    '',
  ].join('\n');
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('renew', args, FLAGS);
  if (flags.within !== undefined && flags.all) throw fail('USAGE', 'renew: --within and --all are exclusive');
  const withinMs = flags.within !== undefined ? parseDuration(flags.within, '--within') : undefined;
  const result = await withLedgerOption(flags.db, (ledger) =>
    withoutTornWrites(io, () =>
      renew(
        dirArgument('renew', positionals),
        { members: flags.member ?? [], clients: flags.client ?? [], ...(withinMs !== undefined ? { withinMs } : {}), all: flags.all ?? false, rekey: flags.rekey ?? false },
        { passphrase: passphraseSource(flags), ...(ledger ? { ledger } : {}) },
      ),
    ),
  );
  if (flags.json) {
    io.out(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  const lines = result.renewed.map((r) => `renewed ${r.name}${r.rekeyed ? ' with a new key' : ''}: serial ${r.oldSerial} -> ${r.newSerial}, valid until ${r.notAfter}`);
  if (result.skipped.length) lines.push(`${result.skipped.length} not due (${result.skipped.slice(0, 5).map((s) => `${s.name} until ${s.notAfter}`).join(', ')}${result.skipped.length > 5 ? ', ...' : ''})`);
  if (result.renewed.length === 0) lines.push('nothing renewed; nothing was written');
  else {
    lines.push('', 'to take effect:');
    for (const action of [...new Set(result.renewed.map((r) => r.action))]) lines.push(`  - ${action}`);
  }
  io.out(`${lines.join('\n')}\n`);
  return 0;
}
