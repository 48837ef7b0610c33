/** `etcd-tls db migrate --db URL`: create or complete the ledger's tables (cfssl's certdb schema). */
import { fail } from '../../errors.js';
import { ledgerFailure } from '../../ledger/failure.js';
import { migrateLedger } from '../../ledger/migrate.js';
import { parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';

const FLAGS = {
  db: { type: 'string', value: 'URL', description: 'the ledger: postgres://USER:PASSWORD@HOST:PORT/DATABASE, or a SQLite file path' },
  json: { type: 'boolean', description: 'print what was done as JSON ({database, steps: [{what, action}]})' },
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls db migrate --db URL [--json]',
    '',
    "Create the issuance ledger's tables, or complete them: cfssl's certdb schema (certificates with",
    'PRIMARY KEY (serial_number, authority_key_identifier), and ocsp_responses), plus two indexes.',
    'Run it once before `etcd-tls serve --db postgres://...`; serve never creates or alters tables, so',
    'it can run as a role that may only read and write rows. Idempotent: a second run changes nothing,',
    "and a database cfssl's own migrations created is completed in place. Two runs at once take turns.",
    'A SQLite ledger creates its tables when first opened; migrating one just does that.',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    '  etcd-tls db migrate --db postgres://etcd_tls:secret@db.example:5432/etcd_ca',
    '  etcd-tls db migrate --db "postgresql://etcd_tls@db.example/etcd_ca?sslmode=verify-full&sslrootcert=db-ca.pem"',
    '',
  ].join('\n');
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('db', args, FLAGS);
  const [sub, ...extra] = positionals;
  if (sub !== 'migrate') {
    throw fail('USAGE', `db: ${sub === undefined ? 'missing subcommand' : `unknown subcommand '${sub}'`}; the only one is 'migrate' (see 'etcd-tls db --help')`);
  }
  if (extra.length > 0) throw fail('USAGE', `db migrate: unexpected argument '${extra[0]}'`);
  if (!flags.db) throw fail('MISSING_FLAG', 'db migrate: --db URL is required (e.g. --db postgres://USER:PASSWORD@HOST:5432/DATABASE)');
  let report;
  try {
    report = await migrateLedger(flags.db);
  } catch (e) {
    throw ledgerFailure(e);
  }
  if (flags.json) {
    io.out(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  const created = report.steps.filter((s) => s.action === 'created').length;
  io.out(`db migrate: ${report.database}\n`);
  for (const s of report.steps) io.out(`  ${s.action === 'created' ? 'created' : 'present'}  ${s.what}\n`);
  io.out(created === 0 ? 'nothing to do: the ledger schema was already up to date\n' : `done: ${created} created, ${report.steps.length - created} already present\n`);
  return 0;
}
