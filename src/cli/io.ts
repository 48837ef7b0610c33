import { escapeControl } from '../errors.js';

/** What a command may touch on its way out: two streams and a warning sink. Tests pass their own. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  warn(message: string): void;
  /** True when stdout is a terminal: long work shows progress only then. */
  isTTY: boolean;
}

export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  warn: (message) => void process.stderr.write(`etcd-tls: warning: ${escapeControl(message)}\n`),
  isTTY: Boolean(process.stdout.isTTY),
};

/** A command module: one file per command under src/cli/commands/. */
export interface CommandModule {
  /** Full --help text: usage line, description, options, and at least one example. */
  help(): string;
  /** Returns the process exit code (0 when omitted). */
  run(args: string[], io: CliIo): Promise<number | void>;
}
