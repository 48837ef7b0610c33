/** `etcd-tls ledger list|show`: what the issuance ledger recorded, for operators (SQLite or PostgreSQL). */
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fail } from '../../errors.js';
import { ledgerFailure } from '../../ledger/failure.js';
import type { CertificateRecord, Ledger } from '../../ledger/ledger.js';
import { openLedger } from '../../ledger/open.js';
import { parseDuration } from '../../pki/duration.js';
import { parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';

const FLAGS = {
  db: { type: 'string', value: 'URL', description: "the ledger: a SQLite file (or sqlite:PATH), a CA directory (its ledger.db, serve's default), or postgres://USER:PASSWORD@HOST:PORT/DATABASE" },
  status: { type: 'string', value: 'good|revoked', description: 'list: only certificates with this status' },
  'expiring-within': { type: 'string', value: 'DURATION', description: 'list: only certificates that expire within DURATION from now (30d, 720h), expired ones included' },
  'ca-label': { type: 'string', value: 'LABEL', description: 'list: only certificates of this CA label' },
  aki: { type: 'string', value: 'HEX', description: 'show: only the certificate of the CA with this authority key identifier' },
  json: { type: 'boolean', description: 'print JSON: list, an array of records without their PEM; show, an array of whole records' },
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls ledger list --db URL [--status good|revoked] [--expiring-within DURATION] [--ca-label LABEL] [--json]',
    '       etcd-tls ledger show SERIAL --db URL [--aki HEX] [--json]',
    '',
    'Read the issuance ledger that `etcd-tls serve` records every certificate in (and gen, renew, revoke with --db):',
    "cfssl's certdb `certificates` table, in a SQLite file or a PostgreSQL database.",
    '',
    '  list   one line per certificate, soonest expiry first: status, expiry, common name, serial, SANs',
    '  show   one certificate in full, with its PEM. SERIAL is decimal as cfssl prints it, or hex with a',
    '         0x prefix or colons as openssl prints it (0x1f3a..., 1F:3A:...)',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    '  etcd-tls ledger list --db pki/ledger.db --expiring-within 30d',
    '  etcd-tls ledger list --db postgres://etcd_tls:secret@db.example/etcd_ca --status revoked --json',
    '  etcd-tls ledger show 51922415243178216403470744373424154925 --db pki/ledger.db',
    '',
  ].join('\n');
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('ledger', args, FLAGS);
  const [sub, ...rest] = positionals;
  if (sub !== 'list' && sub !== 'show') {
    throw fail('USAGE', `ledger: ${sub === undefined ? 'missing subcommand' : `unknown subcommand '${sub}'`}; use 'list' or 'show' (see 'etcd-tls ledger --help')`);
  }
  if (!flags.db) throw fail('MISSING_FLAG', `ledger ${sub}: --db URL is required (a SQLite file path or postgres://...)`);
  const filter = sub === 'list' ? listFilter(flags, rest) : undefined;
  const serial = sub === 'show' ? showSerial(rest) : undefined;

  let ledger: Ledger | undefined;
  try {
    ledger = await openLedger(existingLedger(flags.db));
    if (filter) {
      const records = await ledger.list(filter);
      io.out(flags.json ? `${JSON.stringify(records.map(withoutPem), null, 2)}\n` : renderList(records));
      return 0;
    }
    const records = await ledger.get(serial as string, flags.aki?.toLowerCase().replace(/:/g, ''));
    if (records.length === 0) throw fail('NOT_FOUND', `ledger show: serial ${serial}${flags.aki ? ` of CA ${flags.aki}` : ''} is not recorded in this ledger`);
    io.out(flags.json ? `${JSON.stringify(records, null, 2)}\n` : records.map(renderRecord).join('\n'));
    return 0;
  } catch (e) {
    throw ledgerFailure(e);
  } finally {
    await ledger?.close();
  }
}

/**
 * The ledger `--db` names, never a new one: opening a mistyped SQLite path would create an empty
 * ledger and list nothing. A directory means the ledger serve keeps beside its CA: DIR/ledger.db,
 * or DIR/ca/ledger.db in gen's layout.
 */
function existingLedger(db: string): string {
  if (/^postgres(ql)?:\/\//i.test(db)) return db;
  const file = db.startsWith('sqlite:') ? db.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '').replace(/\?.*$/, '') : db;
  const candidates = existsSync(file) && statSync(file).isDirectory() ? [path.join(file, 'ledger.db'), path.join(file, 'ca', 'ledger.db')] : [file];
  const found = candidates.find((c) => existsSync(c));
  if (found === undefined) throw fail('FILE_NOT_FOUND', `--db ${db}: no ledger at ${candidates.join(' nor ')}`);
  // Reading never needs to write: read-only, so a listing cannot create or change anything.
  return `sqlite:${found}?mode=ro`;
}

type ListFilter = NonNullable<Parameters<Ledger['list']>[0]>;

function listFilter(flags: { status?: string; 'expiring-within'?: string; 'ca-label'?: string }, rest: string[]): ListFilter {
  if (rest.length > 0) throw fail('USAGE', `ledger list: unexpected argument '${rest[0]}'`);
  const filter: ListFilter = {};
  if (flags.status !== undefined) {
    if (flags.status !== 'good' && flags.status !== 'revoked') throw fail('USAGE', `ledger list: --status must be good or revoked, not '${flags.status}'`);
    filter.status = flags.status;
  }
  if (flags['expiring-within'] !== undefined) filter.expiringBefore = new Date(Date.now() + parseDuration(flags['expiring-within'], 'ledger list: --expiring-within'));
  if (flags['ca-label'] !== undefined) filter.caLabel = flags['ca-label'];
  return filter;
}

/** The decimal serial cfssl's certdb keys on, from decimal or from openssl's hex (0x… or with colons). */
export function parseSerial(text: string): string | null {
  const s = text.trim();
  if (/^\d+$/.test(s)) return BigInt(s).toString(10);
  const hex = /^0x([0-9a-f]+)$/i.exec(s)?.[1] ?? (/^[0-9a-f]{1,2}(:[0-9a-f]{1,2})+$/i.test(s) ? s.replace(/:/g, '') : undefined);
  return hex === undefined ? null : BigInt(`0x${hex}`).toString(10);
}

function showSerial(rest: string[]): string {
  const [text, extra] = rest;
  if (text === undefined) throw fail('USAGE', 'ledger show: missing SERIAL (decimal, or hex with 0x or colons)');
  if (extra !== undefined) throw fail('USAGE', `ledger show: unexpected argument '${extra}'`);
  const serial = parseSerial(text);
  if (serial === null) throw fail('USAGE', `ledger show: '${text.replace(/[\u0000-\u001f\u007f]/g, '?')}' is not a serial number (decimal, or hex with 0x or colons)`);
  return serial;
}

const day = (d: Date): string => d.toISOString().slice(0, 10);

function withoutPem(r: CertificateRecord): Omit<CertificateRecord, 'pem'> {
  const { pem: _pem, ...rest } = r;
  return rest;
}

function renderList(records: readonly CertificateRecord[]): string {
  if (records.length === 0) return 'no certificates match\n';
  const rows = records.map((r) => [r.status, day(r.expiry), r.commonName || '-', r.serialNumber, r.sans.join(',') || '-']);
  const head = ['STATUS', 'EXPIRES', 'COMMON NAME', 'SERIAL', 'SANS'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ');
  return `${[head, ...rows].map(line).join('\n')}\n${records.length} certificate${records.length === 1 ? '' : 's'}\n`;
}

function renderRecord(r: CertificateRecord): string {
  const rows: [string, string][] = [
    ['serial', `${r.serialNumber} (0x${BigInt(r.serialNumber).toString(16)})`],
    ['authority key id', r.authorityKeyIdentifier],
    ['ca label', r.caLabel || '-'],
    ['status', r.status === 'revoked' ? `revoked at ${r.revokedAt?.toISOString() ?? '?'}, reason ${r.reason}` : 'good'],
    ['common name', r.commonName || '-'],
    ['sans', r.sans.join(', ') || '-'],
    ['not before', r.notBefore.toISOString()],
    ['expiry', r.expiry.toISOString()],
    ['issued at', r.issuedAt.toISOString()],
    ['metadata', r.metadata === null ? '-' : JSON.stringify(r.metadata)],
  ];
  const w = Math.max(...rows.map(([k]) => k.length)) + 2;
  return `${rows.map(([k, v]) => `${`${k}:`.padEnd(w)}${v}`).join('\n')}\n${r.pem.endsWith('\n') ? r.pem : `${r.pem}\n`}`;
}
