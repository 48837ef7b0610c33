/**
 * A real PostgreSQL server for tests (test/helpers/postgres-server.ts starts it): skipped on a laptop
 * without PostgreSQL, a failure when CI is set, and stopped by the PID it wrote: an after() hook
 * registered when this module loads stops exactly the servers this process started, also when a
 * test fails.
 *
 * @example
 *   const pg = await startPostgres(t, { host: '127.0.0.165', port: 5432 });
 *   if (!pg) return; // skipped on a laptop without PostgreSQL (fails instead when CI is set)
 *   const url = await pg.createDatabase('ledger');
 *   const r = await etcdTls(['db', 'migrate', '--db', url]);
 */
import { strict as assert } from 'node:assert';
import { after, type TestContext } from 'node:test';
import { findPostgresBin, postgresUid, startedPostgres, startPostgresServer, type PostgresOptions, type PostgresServer } from './postgres-server.js';

export { POSTGRES_PASSWORD, type PostgresOptions, type PostgresServer } from './postgres-server.js';

/** True when PostgreSQL can be started here; otherwise skips the test (fails it when CI is set). */
export function requirePostgres(t: TestContext): boolean {
  const bin = findPostgresBin();
  const asRoot = process.getuid?.() === 0;
  let missing: string | null = null;
  if (!bin) missing = 'PostgreSQL is not installed (/usr/lib/postgresql/<version>/bin/pg_ctl)';
  else if (asRoot && postgresUid() === null) missing = 'there is no postgres user to run initdb as';
  if (!missing) return true;
  if (process.env.CI) assert.fail(`${missing} and CI is set: apt-get install postgresql`);
  t.skip(`${missing} (apt-get install postgresql)`);
  return false;
}

after(() => stopAllPostgres());
// Last resort when hooks cannot run (the runner ends an overrunning file with SIGTERM): SIGQUIT is
// PostgreSQL's immediate shutdown, and the postmaster takes its backends down with it.
function quitStartedSync(): void {
  for (const pid of startedPostgres.keys()) {
    try {
      process.kill(pid, 'SIGQUIT');
    } catch {
      // already gone
    }
  }
}
process.on('exit', quitStartedSync);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    quitStartedSync();
    process.kill(process.pid, signal);
  });
}

/** Stop every server this process started; nothing else. */
export async function stopAllPostgres(): Promise<void> {
  for (const s of [...startedPostgres.values()]) await s.stop();
}

/**
 * startPostgresServer, or null when the test was skipped (see requirePostgres). Stopped by the after()
 * hook of this module, or earlier by `stop()`.
 */
export async function startPostgres(t: TestContext, opts: PostgresOptions): Promise<PostgresServer | null> {
  if (!requirePostgres(t)) return null;
  return startPostgresServer(opts);
}
