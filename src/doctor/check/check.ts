/**
 * `check`, the offline doctor: find what etcd and its clients will reject before anything starts.
 * Reads what exists (a generated directory, single certificate files, etcd configuration from an env
 * file, flags or YAML), ties each certificate to the settings that use it, and returns findings.
 *
 * @example
 *   const report = await runCheck({ dir: 'pki' });
 *   if (hasErrors(report.findings)) process.stdout.write(renderFindingsText(report.findings));
 */
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { checkRun, runsOf, UNITS_PER_SESSION, type Listings, type RunResult } from './runs.js';
import { rotationFindings } from './rotation.js';
import { fail } from '../../errors.js';
import { readTextFile } from '../../store/files.js';
import { findLeftovers } from '../../store/leftovers.js';
import { DEFAULT_EXPIRY_WARNING_DAYS, type CertRole } from './certs.js';
import { finding } from './codes.js';
import { CheckSession, mergeSessionFindings, roleFromFileName, unitDirs, type CheckedFiles, type SessionFindings, type UnitDir } from './session.js';
import { parseEtcdArgs, parseEtcdEnvFile, parseEtcdYaml, type EtcdConfigSource } from '../../etcd/config.js';
import { dedupeFindings, type Finding } from '../findings.js';

export type { CertRole } from './certs.js';
export { keyFileFor, roleFromFileName } from './session.js';

export interface CertificateTarget {
  cert: string;
  key?: string;
  /** Guessed from the file name (server/peer/client) when absent. */
  role?: CertRole;
}

export interface CheckRequest {
  /** A directory laid out like `etcd-tls gen` output (or any folder of PEM files and etcd configs). */
  dir?: string;
  /** The CA bundle leaves must chain to; default DIR/ca.pem. */
  ca?: string;
  /** The cluster spec DIR was generated from: every member and client must have its files and addresses. */
  spec?: string;
  certificates?: CertificateTarget[];
  /** Environment files of one etcd (ETCD_* and DAEMON_ARGS). */
  etcdEnv?: string[];
  /** A YAML file for etcd --config-file. */
  etcdYaml?: string;
  /** etcd's command line, as one string. */
  flags?: string;
  /** The time certificates are judged at (default: now). */
  now?: Date;
  /** Warn about certificates that expire within this many days (default 30). */
  expiryWarningDays?: number;
}

export interface CheckReport {
  findings: Finding[];
  /** What was looked at, as displayed in findings. */
  checked: CheckedFiles;
}

/**
 * The runs' results, when they can stand for checking their folders in the session: each stayed
 * within its own folders, and the session stayed out of all of them. A file of one run that another
 * run's config names makes them unusable: the caller then checks those folders in its session, so
 * the report never depends on the runs.
 */
function independentResults(runs: readonly string[][], results: readonly RunResult[], own: ReadonlySet<string>): boolean {
  const others = new Set(runs.flat());
  for (const dir of own) if (others.has(dir)) return false;
  return results.every((r, i) => {
    const mine = new Set(runs[i]);
    return r.dirs.every((d) => mine.has(d));
  });
}

/**
 * Every folder of DIR: the session takes DIR itself and the first run of folders; the other runs are
 * checked by sessions of their own, and their findings returned when they can stand for the
 * session's (else the session checks those folders too, and none are returned).
 */
function checkFolders(session: CheckSession, dir: string, units: readonly UnitDir[], listings: Listings, whole: boolean): SessionFindings[] {
  const [first = [], ...rest] = whole ? [units] : runsOf(units, UNITS_PER_SESSION);
  for (const unit of first) session.scanUnit(unit.dir, unit.entries, unit.dir === dir);
  const runs = rest.map((run) => run.map((u) => u.dir));
  const settings = { now: session.now, warningDays: session.warningDays, ...(session.primaryCa ? { primaryCa: session.primaryCa } : {}) };
  const results = runs.map((run) => checkRun(settings, run, listings));
  if (independentResults(runs, results, session.registeredDirs())) return results.map((r) => r.findings);
  for (const unit of rest.flat()) session.scanUnit(unit.dir, unit.entries, false);
  return [];
}

/**
 * Run the offline checks. Throws only when there is nothing to check (no such DIR, no input at all);
 * everything wrong with the files themselves is a finding.
 */
export async function runCheck(request: CheckRequest): Promise<CheckReport> {
  const now = request.now ?? new Date();
  const warningDays = request.expiryWarningDays ?? DEFAULT_EXPIRY_WARNING_DAYS;
  const session = new CheckSession(now, warningDays);
  const configGiven = Boolean(request.etcdEnv?.length || request.etcdYaml || request.flags !== undefined);
  if (!request.dir && !request.certificates?.length && !configGiven && !request.ca)
    throw fail('USAGE', 'check: nothing to check: give a DIR, --cert, --ca, --etcd-env, --etcd-yaml or --flags');
  if (request.spec && !request.dir) throw fail('USAGE', 'check: --spec needs the DIR the spec was generated into');
  if (request.ca) session.primaryCa = session.addBundle(request.ca);
  let leftovers: Finding[] = [];
  let runFindings: SessionFindings[] = [];
  if (request.dir) {
    const dir = path.resolve(request.dir);
    if (!existsSync(dir)) throw fail('FILE_NOT_FOUND', `${request.dir}: directory does not exist`);
    if (!statSync(dir).isDirectory()) throw fail('USAGE', `${request.dir}: is not a directory (use --cert for a single certificate)`);
    // The root's CA must be known before any leaf is registered: every leaf chains to it.
    if (!session.primaryCa) {
      const rootCa = ['ca.pem', 'ca.crt'].map((n) => path.join(dir, n)).find((f) => existsSync(f));
      if (rootCa) session.primaryCa = session.addBundle(rootCa);
    }
    if (request.spec) await session.addSpec(request.spec, dir);
    const units = unitDirs(dir);
    // A spec, certificates or a config register files anywhere in DIR, outside any one run's folders.
    const whole = Boolean(request.spec || request.certificates?.length || configGiven);
    const listings = new Map(units.map((u) => [u.dir, u.entries]));
    runFindings = checkFolders(session, dir, units, listings, whole);
    leftovers = findLeftovers(dir, listings).map((l) =>
      l.kind === 'journal'
        ? finding('interrupted-write', 'error', l.path, 'a batch of writes was cut short between its renames: some files are new and some old (a certificate may not match its key)', 'run the etcd-tls command that was interrupted again (e.g. gen with the same spec): it finishes the batch first')
        : finding('interrupted-write', 'warning', l.path, 'a temp file (it may hold a private key) of an etcd-tls run that is gone', 'run the etcd-tls command that was interrupted again: it removes it (or remove it by hand)'),
    );
  }
  for (const t of request.certificates ?? []) {
    const role = t.role ?? roleFromFileName(t.cert);
    const leaf = session.leaf(t.cert, role);
    if (t.key) leaf.key = path.resolve(t.key);
  }
  if (configGiven) {
    const sources: EtcdConfigSource[] = [
      ...(request.etcdEnv ?? []).map((f) => parseEtcdEnvFile(readTextFile(f, 'etcd environment file'), f)),
      ...(request.flags !== undefined ? [parseEtcdArgs(request.flags)] : []),
      ...(request.etcdYaml ? [parseEtcdYaml(readTextFile(request.etcdYaml, 'etcd config file'), request.etcdYaml)] : []),
    ];
    const first = request.etcdEnv?.[0] ?? request.etcdYaml;
    session.addConfig(sources, first ? path.dirname(path.resolve(first)) : process.cwd(), false, session.primaryCa ? [session.primaryCa] : []);
  }
  const all = mergeSessionFindings([session.finish(), ...runFindings]);
  const report: CheckReport = { findings: dedupeFindings([...all.ca, ...all.leaves, ...all.configs]), checked: all.checked };
  // Two CAs and mixed issuers are what a rotation in progress looks like, not a broken directory.
  if (request.dir) report.findings = rotationFindings(path.resolve(request.dir), report.findings, (f) => session.display(f));
  return leftovers.length ? { ...report, findings: [...leftovers, ...report.findings] } : report;
}
