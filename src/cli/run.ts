/**
 * Running one command module: its --help, its exit code, and whatever it throws turned into one line
 * on stderr. Shared by the ESM entry (main.ts) and the pre-bundled per-command files that
 * bin/etcd-tls loads (scripts/bundle.mjs), so both paths behave the same.
 */
import { escapeControl, isEtcdTlsError } from '../errors.js';
import { releaseDirectoryLocks } from '../store/lock.js';
import { processIo, type CliIo, type CommandModule } from './io.js';

/** Print one line for an error; exit 1 for bad input, 2 for internal faults. */
export function reportError(e: unknown, io: CliIo): number {
  const debug = process.env.ETCD_TLS_DEBUG === '1';
  if (isEtcdTlsError(e)) {
    io.err(`etcd-tls: ${e.code}: ${escapeControl(e.message)}\n`);
    if (debug && e.stack) io.err(`${e.stack}\n`);
    return 1;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  io.err(`etcd-tls: INTERNAL: ${escapeControl(err.message)}${debug ? '' : ' (set ETCD_TLS_DEBUG=1 for the stack trace)'}\n`);
  if (debug && err.stack) io.err(`${err.stack}\n`);
  return 2;
}

/** A closed pipe (`etcd-tls certinfo ... | head`) is not an error worth a stack trace. */
export function exitQuietlyOnClosedStdout(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
}

/**
 * Run `work` so that Ctrl-C or SIGTERM cannot cut a batch of writes in half. Without a handler the
 * signal kills the process wherever it is (a staging directory of keys was left behind); with one,
 * it is handled between steps, and a batch of writes is one synchronous call, so it lands before the
 * process goes. The handler releases the directory lock and raises the signal again with its default
 * action: process.exit() would first wait for every RSA key queued on the thread pool (seconds to
 * minutes).
 */
export async function withoutTornWrites<T>(io: CliIo, work: () => Promise<T>): Promise<T> {
  const onSignal = (signal: NodeJS.Signals): void => {
    io.err(`\netcd-tls: stopped by ${signal}; what was written landed whole, the rest not at all\n`);
    releaseDirectoryLocks();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.kill(process.pid, signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const wantsHelp = (args: readonly string[]): boolean => args.includes('--help') || args.includes('-h') || args.includes('-help');

/** Run `mod` with the arguments after its name; sets process.exitCode. */
export async function runCommand(mod: CommandModule, args: string[], io: CliIo = processIo): Promise<void> {
  try {
    if (wantsHelp(args)) {
      io.out(mod.help());
      return;
    }
    process.exitCode = (await mod.run(args, io)) ?? 0;
  } catch (e) {
    process.exitCode = reportError(e, io);
  }
}

/** The entry of a bundled command file: `main(process.argv.slice(2))`, the command name first. */
export function runBundled(mod: CommandModule): (argv: string[]) => Promise<void> {
  return (argv) => {
    exitQuietlyOnClosedStdout();
    return runCommand(mod, argv.slice(1));
  };
}
