/**
 * The SQLite ledger: cfssl's certdb schema in one embedded file (the default beside a CA directory).
 *
 * Driver: `node:sqlite` where Node has it without a flag (>= 22.13), else better-sqlite3 12 (an
 * optional dependency, loaded only then). Why both: better-sqlite3 is a native addon built for the
 * ABI of the Node that installed it, so one node_modules shared by Node 20 and 24 crashes on the
 * other one; node:sqlite needs no build but does not exist on Node 20. Both are synchronous and
 * expose the same prepare/run/all surface, which is all this file uses.
 *
 * Durability and throughput. insert() and revoke() resolve only once their commit is on disk. Both
 * drivers are synchronous, so with synchronous=FULL every commit's fsync would stall the event loop
 * (measured: a signing server fell from ~520 to ~170 requests/s on this machine's disk). Instead:
 *  - inserts arriving in the same turn of the event loop share one transaction (group commit), each
 *    call in its own savepoint so a duplicate serial fails only its own call;
 *  - commits run with synchronous=OFF, and the WAL file is then fdatasync'ed on libuv's thread pool;
 *    callers resolve after a sync that started after their commit, and one sync covers every commit
 *    made while the previous one was running;
 *  - checkpoints (which copy the WAL into the database and later let SQLite overwrite the WAL) are
 *    not automatic: they run every CHECKPOINT_EVERY commits with synchronous=FULL, which syncs the WAL
 *    and the database before anything in the WAL may be overwritten.
 * A crash therefore loses only commits whose callers were never answered.
 */
import { closeSync, fdatasync, openSync } from 'node:fs';
import { promisify } from 'node:util';
import { CERTIFICATE_COLUMNS, SQLITE_SCHEMA } from './schema.js';
import { LedgerError, type CertificateRecord, type Ledger, type RevokeOutcome } from './ledger.js';

type SqlValue = string | number | null | bigint | Uint8Array;
type Row = Record<string, SqlValue>;
interface Statement {
  run(...params: SqlValue[]): { changes: number | bigint };
  all(...params: SqlValue[]): unknown[];
}
interface Database {
  exec(sql: string): void;
  prepare(sql: string): Statement;
  close(): void;
}

/** The driver in use, for the startup line: which SQLite etcd-tls opened the ledger with. */
export let sqliteDriver: 'node:sqlite' | 'better-sqlite3' | undefined;

async function openDatabase(path: string, readOnly: boolean): Promise<Database> {
  const nodeSqlite = loadNodeSqlite();
  if (nodeSqlite) {
    sqliteDriver = 'node:sqlite';
    return new nodeSqlite.DatabaseSync(path, { readOnly }) as unknown as Database;
  }
  let BetterSqlite: new (path: string, opts: { readonly: boolean; fileMustExist: boolean }) => Database;
  try {
    BetterSqlite = await loadPackage<typeof BetterSqlite>('better-sqlite3');
  } catch (e) {
    throw new LedgerError(
      'UNAVAILABLE',
      `SQLite ledger: this Node (${process.version}) has no node:sqlite and the optional better-sqlite3 package could not be loaded (${(e as Error).message.split('\n')[0]}); run npm install, or use Node >= 22.13`,
    );
  }
  sqliteDriver = 'better-sqlite3';
  return new BetterSqlite(path, { readonly: readOnly, fileMustExist: readOnly });
}

/**
 * An installed CommonJS package from either build of this file: the CLI runs it from a CommonJS
 * bundle evaluated without a dynamic-import hook (bin/etcd-tls), where only require works; the
 * library runs it as ESM, where only import() does.
 */
async function loadPackage<T>(name: string): Promise<T> {
  if (typeof require === 'function') return require(name) as T;
  return ((await import(name)) as { default: T }).default;
}

/** node:sqlite without its one-time ExperimentalWarning on stderr (the server prints its own startup lines). */
function loadNodeSqlite(): { DatabaseSync: new (path: string, opts: { readOnly: boolean }) => unknown } | undefined {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major < 22 || (major === 22 && minor < 13)) return undefined;
  const emit = process.emitWarning;
  process.emitWarning = ((w: string | Error, ...rest: unknown[]) => {
    const text = typeof w === 'string' ? w : w.message;
    if (/SQLite/i.test(text)) return;
    (emit as (...a: unknown[]) => void).call(process, w, ...rest);
  }) as typeof process.emitWarning;
  try {
    // Synchronous and hook-free (works in the CLI bundle); not in @types/node 20.
    const getBuiltin = (process as unknown as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    return getBuiltin?.('node:sqlite') as { DatabaseSync: new (path: string, opts: { readOnly: boolean }) => unknown } | undefined;
  } catch {
    return undefined;
  } finally {
    process.emitWarning = emit;
  }
}

/** SQLite's primary result code from either driver's error. */
function sqliteCode(e: unknown): { primary: number; text: string } {
  const err = e as { errcode?: number; code?: string; message?: string };
  if (typeof err.errcode === 'number') return { primary: err.errcode & 0xff, text: err.message ?? '' };
  const byName: Record<string, number> = { SQLITE_BUSY: 5, SQLITE_READONLY: 8, SQLITE_IOERR: 10, SQLITE_CORRUPT: 11, SQLITE_FULL: 13, SQLITE_CANTOPEN: 14, SQLITE_CONSTRAINT: 19, SQLITE_NOTADB: 26 };
  const name = Object.keys(byName).find((n) => err.code === n || err.code?.startsWith(`${n}_`));
  return { primary: name ? (byName[name] as number) : 1, text: err.message ?? String(e) };
}

function ledgerError(e: unknown, where: string): LedgerError {
  if (e instanceof LedgerError) return e;
  const { primary, text } = sqliteCode(e);
  if (primary === 8) return new LedgerError('READ_ONLY', `${where}: the database is read-only (${text})`);
  if (primary === 11 || primary === 26) return new LedgerError('SCHEMA', `${where}: not a usable SQLite database (${text})`);
  return new LedgerError('UNAVAILABLE', `${where}: ${text}`);
}

/** Time as Go's SQLite driver writes it (and parses it back): `2006-01-02 15:04:05.999-07:00`, UTC. */
export function sqliteTime(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '+00:00');
}

function parseTime(v: SqlValue | undefined): Date | null {
  if (v === null || v === undefined || v === '') return null;
  const text = String(v).trim().replace(' ', 'T');
  // Go writes nanoseconds; Date takes milliseconds.
  const d = new Date(text.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(d.getTime()) ? null : d;
}

function text(v: SqlValue | undefined): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return String(v);
}

function jsonColumn<T>(v: SqlValue | undefined, fallback: T): T {
  const t = text(v);
  if (t === '') return fallback;
  try {
    return JSON.parse(t) as T;
  } catch {
    return fallback;
  }
}

function toRecord(row: Row): CertificateRecord {
  const status = text(row.status) === 'revoked' ? 'revoked' : 'good';
  return {
    serialNumber: text(row.serial_number),
    authorityKeyIdentifier: text(row.authority_key_identifier),
    caLabel: text(row.ca_label),
    status,
    reason: Number(row.reason ?? 0),
    expiry: parseTime(row.expiry) ?? new Date(0),
    revokedAt: parseTime(row.revoked_at),
    pem: text(row.pem),
    issuedAt: parseTime(row.issued_at) ?? new Date(0),
    notBefore: parseTime(row.not_before) ?? new Date(0),
    sans: jsonColumn<string[]>(row.sans, []),
    commonName: text(row.common_name),
    metadata: jsonColumn<Record<string, unknown> | null>(row.metadata, null),
  };
}

function rowValues(r: CertificateRecord): SqlValue[] {
  return [
    r.serialNumber,
    r.authorityKeyIdentifier.toLowerCase(),
    r.caLabel,
    r.status,
    r.reason,
    sqliteTime(r.expiry),
    r.revokedAt ? sqliteTime(r.revokedAt) : null,
    r.pem,
    sqliteTime(r.issuedAt),
    sqliteTime(r.notBefore),
    r.metadata === null ? null : JSON.stringify(r.metadata),
    JSON.stringify(r.sans),
    r.commonName,
  ];
}

interface PendingInsert {
  records: readonly CertificateRecord[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

const syncData = promisify(fdatasync);
/** Commits between checkpoints: bounds the WAL (~1-2 MB of certificates) and the cost of each checkpoint. */
const CHECKPOINT_EVERY = 256;
/** How long a statement waits for another process's write lock before failing with BUSY. */
const BUSY_TIMEOUT_MS = 5000;

const SELECT = `SELECT ${CERTIFICATE_COLUMNS.join(', ')} FROM certificates`;

class SqliteLedger implements Ledger {
  private pending: PendingInsert[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly insertRow: Statement;
  // Prepared once: exec() parses its SQL on every call, and a batch ran four of them per certificate.
  private readonly begin: Statement;
  private readonly commit: Statement;
  private readonly savepoint: Statement;
  private readonly release: Statement;
  private readonly rollbackToSavepoint: Statement;
  private readonly noWait: Statement;
  private readonly waitWhenBusy: Statement;
  /** When BEGIN first found the write lock taken, and how many retries since. */
  private busySince: number | undefined;
  private busyRetries = 0;
  /** Commits made, and how many of them a completed WAL sync covers. */
  private committed = 0;
  private synced = 0;
  private syncing: Promise<void> | null = null;
  private walFd: number | undefined;
  private sinceCheckpoint = 0;

  constructor(
    private readonly db: Database,
    private readonly path: string,
    /** WAL mode: commits are synced by durable(); otherwise SQLite synced each one already. */
    private readonly wal: boolean,
  ) {
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.savepoint = db.prepare('SAVEPOINT one');
    this.release = db.prepare('RELEASE one');
    this.rollbackToSavepoint = db.prepare('ROLLBACK TO one');
    this.noWait = db.prepare('PRAGMA busy_timeout = 0');
    this.waitWhenBusy = db.prepare(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.insertRow = db.prepare(`INSERT INTO certificates (${CERTIFICATE_COLUMNS.join(', ')}) VALUES (${CERTIFICATE_COLUMNS.map(() => '?').join(', ')})`);
  }

  insert(records: readonly CertificateRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new LedgerError('UNAVAILABLE', `${this.path}: the ledger is closed`));
    if (records.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.pending.push({ records, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** One transaction (one fsync) for every insert queued since the last flush. */
  private flush(): void {
    this.flushScheduled = false;
    let began: boolean;
    try {
      began = this.tryBegin();
    } catch (e) {
      const err = ledgerError(e, this.path);
      for (const p of this.pending.splice(0)) p.reject(err);
      return;
    }
    if (!began) {
      // Another process holds the write lock: serve other requests meanwhile, then try again.
      this.flushScheduled = true;
      if (++this.busyRetries <= 3) setImmediate(() => this.flush());
      else setTimeout(() => this.flush(), 1);
      return;
    }
    const batch = this.pending;
    this.pending = [];
    const outcomes: (unknown | null)[] = [];
    try {
      try {
        for (const p of batch) {
          // A one-row call needs no savepoint: a failed INSERT undoes only itself (statement atomicity).
          const several = p.records.length > 1;
          if (several) this.savepoint.run();
          try {
            for (const r of p.records) this.insertRow.run(...rowValues(r));
            if (several) this.release.run();
            outcomes.push(null);
          } catch (e) {
            if (several) {
              this.rollbackToSavepoint.run();
              this.release.run();
            }
            const { primary } = sqliteCode(e);
            if (primary !== 19) throw e;
            const first = p.records[0] as CertificateRecord;
            outcomes.push(new LedgerError('DUPLICATE_SERIAL', `${this.path}: serial ${first.serialNumber} of CA ${first.authorityKeyIdentifier} is already recorded`));
          }
        }
        this.commit.run();
      } catch (e) {
        try {
          this.db.exec('ROLLBACK');
        } catch {
          // The transaction may already be gone (SQLite rolls back on some I/O errors).
        }
        throw e;
      }
    } catch (e) {
      const err = ledgerError(e, this.path);
      for (const p of batch) p.reject(err);
      return;
    }
    this.durable(this.afterCommit()).then(
      () =>
        batch.forEach((p, i) => {
          const outcome = outcomes[i];
          if (outcome) p.reject(outcome);
          else p.resolve();
        }),
      (e: unknown) => {
        const err = ledgerError(e, this.path);
        for (const p of batch) p.reject(err);
      },
    );
  }

  /**
   * BEGIN IMMEDIATE without waiting: false when another process (a `serve --workers` sibling) holds
   * the write lock. SQLite's own busy handler would sleep the whole event loop 1 ms and more per
   * attempt, measured at 8% of each of two workers' time; a retry on a later turn lets this one sign
   * meanwhile. After busy_timeout of refusals, SQLite's BUSY error goes to the callers.
   */
  private tryBegin(): boolean {
    this.noWait.all();
    try {
      this.begin.run();
      this.busySince = undefined;
      this.busyRetries = 0;
      return true;
    } catch (e) {
      const now = Date.now();
      this.busySince ??= now;
      if (sqliteCode(e).primary !== 5 || now - this.busySince > BUSY_TIMEOUT_MS) {
        this.busySince = undefined;
        this.busyRetries = 0;
        throw e;
      }
      return false;
    } finally {
      this.waitWhenBusy.all();
    }
  }

  /** Count a commit (checkpointing when due); returns its sequence number for durable(). */
  private afterCommit(): number {
    this.committed++;
    if (++this.sinceCheckpoint >= CHECKPOINT_EVERY) this.checkpoint();
    return this.committed;
  }

  /** Copy the WAL into the database, syncing both first (synchronous=FULL for this statement only). */
  private checkpoint(): void {
    this.sinceCheckpoint = 0;
    if (!this.wal) return;
    this.db.exec('PRAGMA synchronous = FULL');
    try {
      this.db.exec('PRAGMA wal_checkpoint(PASSIVE)');
      // FULL synced the WAL as it stood: every commit so far is durable.
      this.synced = this.committed;
    } finally {
      this.db.exec('PRAGMA synchronous = OFF');
    }
  }

  /** Resolves once commit number `seq` is on disk: one fdatasync of the WAL covers all commits before it. */
  private async durable(seq: number): Promise<void> {
    if (!this.wal) return;
    while (this.synced < seq) {
      if (!this.syncing) {
        const target = this.committed;
        this.walFd ??= openSync(`${this.path}-wal`, 'r');
        this.syncing = syncData(this.walFd).then(
          () => {
            this.synced = Math.max(this.synced, target);
            this.syncing = null;
          },
          (e: unknown) => {
            this.syncing = null;
            throw e;
          },
        );
      }
      await this.syncing;
    }
  }

  async revoke(serialNumber: string, authorityKeyIdentifier: string, reason: number, at: Date): Promise<RevokeOutcome> {
    await this.drain();
    try {
      const aki = authorityKeyIdentifier.toLowerCase();
      const rows = this.db.prepare(`SELECT status FROM certificates WHERE serial_number = ? AND authority_key_identifier = ?`).all(serialNumber, aki) as Row[];
      if (rows.length === 0) return 'unknown';
      if (text(rows[0]?.status) === 'revoked') return 'already-revoked';
      const { changes } = this.db
        .prepare(`UPDATE certificates SET status = 'revoked', reason = ?, revoked_at = ? WHERE serial_number = ? AND authority_key_identifier = ? AND status != 'revoked'`)
        .run(reason, sqliteTime(at), serialNumber, aki);
      if (Number(changes) === 0) return 'already-revoked';
      await this.durable(this.afterCommit());
      return 'revoked';
    } catch (e) {
      throw ledgerError(e, this.path);
    }
  }

  async get(serialNumber: string, authorityKeyIdentifier?: string): Promise<CertificateRecord[]> {
    return this.query(
      authorityKeyIdentifier === undefined
        ? [`${SELECT} WHERE serial_number = ?`, serialNumber]
        : [`${SELECT} WHERE serial_number = ? AND authority_key_identifier = ?`, serialNumber, authorityKeyIdentifier.toLowerCase()],
    );
  }

  async list(filter: { status?: 'good' | 'revoked'; expiringBefore?: Date; caLabel?: string } = {}): Promise<CertificateRecord[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (filter.status) where.push('status = ?') && params.push(filter.status);
    if (filter.caLabel !== undefined) where.push('ca_label = ?') && params.push(filter.caLabel);
    const rows = await this.query([`${SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY expiry`, ...params]);
    // Compared as dates, not strings: rows written by Go carry nanoseconds and maybe another offset.
    return filter.expiringBefore ? rows.filter((r) => r.expiry < (filter.expiringBefore as Date)) : rows;
  }

  async revokedUnexpired(authorityKeyIdentifier: string, now: Date): Promise<CertificateRecord[]> {
    const rows = await this.query([`${SELECT} WHERE status = 'revoked' AND authority_key_identifier = ?`, authorityKeyIdentifier.toLowerCase()]);
    return rows.filter((r) => r.expiry > now);
  }

  private async query([sql, ...params]: [string, ...SqlValue[]]): Promise<CertificateRecord[]> {
    await this.drain();
    try {
      return (this.db.prepare(sql).all(...params) as Row[]).map(toRecord);
    } catch (e) {
      throw ledgerError(e, this.path);
    }
  }

  /** Reads and revocations see every insert that was asked for before them. */
  private async drain(): Promise<void> {
    if (this.closed) throw new LedgerError('UNAVAILABLE', `${this.path}: the ledger is closed`);
    if (this.pending.length > 0) await Promise.allSettled(this.pending.map((p) => new Promise<void>((res) => {
      const { resolve, reject } = p;
      p.resolve = () => (resolve(), res());
      p.reject = (e) => (reject(e), res());
    })));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.pending.length > 0) await this.drain();
    this.closed = true;
    try {
      if (this.committed > 0) this.checkpoint();
    } finally {
      if (this.walFd !== undefined) closeSync(this.walFd);
      this.db.close();
    }
  }
}

/**
 * Open (and on first use create) the SQLite ledger at `path`. An existing cfssl certdb is used as it
 * is; one without migration 002's columns is a SCHEMA error rather than being altered behind its
 * owner's back.
 *
 * @example
 *   const ledger = await openSqliteLedger('/etc/etcd-tls/ca/ledger.db');
 */
export async function openSqliteLedger(path: string, opts: { readOnly?: boolean } = {}): Promise<Ledger> {
  const readOnly = opts.readOnly ?? false;
  let db: Database;
  try {
    db = await openDatabase(path, readOnly);
  } catch (e) {
    throw ledgerError(e, path);
  }
  try {
    const columns = new Set((db.prepare(`PRAGMA table_info(certificates)`).all() as Row[]).map((r) => text(r.name)));
    if (columns.size === 0 && readOnly) throw new LedgerError('SCHEMA', `${path}: has no certificates table (opened read-only, so it was not created)`);
    if (columns.size === 0) db.exec(SQLITE_SCHEMA);
    else {
      const missing = CERTIFICATE_COLUMNS.filter((c) => !columns.has(c));
      if (missing.length)
        throw new LedgerError('SCHEMA', `${path}: table certificates lacks ${missing.join(', ')} (a certdb from before cfssl's migration 002); add them with cfssl's 002_AddMetadataToCertificates.sql`);
    }
    let wal = false;
    try {
      if (!readOnly) wal = text((db.prepare('PRAGMA journal_mode = WAL').all() as Row[])[0]?.journal_mode).toLowerCase() === 'wal';
    } catch (e) {
      // A read-only file cannot switch journal mode; it still serves reads, and writes fail READ_ONLY.
      if (sqliteCode(e).primary !== 8) throw e;
    }
    // In WAL mode durability comes from the ledger's own WAL syncs and checkpoints (see the top of
    // this file); where WAL is refused (some network file systems), SQLite syncs every commit itself.
    db.exec(wal ? 'PRAGMA synchronous = OFF' : 'PRAGMA synchronous = FULL');
    db.exec('PRAGMA wal_autocheckpoint = 0');
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    return new SqliteLedger(db, path, wal);
  } catch (e) {
    db.close();
    throw ledgerError(e, path);
  }
}
