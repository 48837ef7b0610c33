/**
 * The CLI side of CA passphrases: the --ca-passphrase-file flag every signing command declares, and
 * the no-echo prompt offered when standard input is a terminal. (The order of sources is in
 * lifecycle/ca-key.ts.)
 */
import { fail } from '../errors.js';
import { PASSPHRASE_ENV, type PassphraseSource } from '../lifecycle/ca-key.js';
import { readFileBytes } from '../store/files.js';
import type { FlagDefs } from './args.js';

export const CA_PASSPHRASE_FLAGS = {
  'ca-passphrase-file': {
    type: 'string',
    value: 'FILE',
    description: 'passphrase of an encrypted CA key (first line of FILE); else $ETCD_TLS_CA_PASSPHRASE, else a prompt on a terminal',
  },
} as const satisfies FlagDefs;

/** Read one line from the terminal without echoing it. */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    // Echo off before the prompt shows: typed-ahead input after the prompt must never be echoed.
    stdin.setRawMode(true);
    process.stderr.write(question);
    let answer = '';
    const done = (err?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(answer);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(fail('CA_PASSPHRASE_MISSING', 'interrupted at the passphrase prompt; nothing was written'));
        if (ch === '\u0004' && answer === '') return done();
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else if (ch >= ' ') answer += ch;
      }
    };
    stdin.resume();
    stdin.on('data', onData);
  });
}

/**
 * The passphrase source of a command: the first line of --ca-passphrase-file, else
 * $ETCD_TLS_CA_PASSPHRASE, else a no-echo prompt when stdin is a terminal (asked twice for a new key).
 */
export function passphraseSource(flags: { 'ca-passphrase-file'?: string }, env: Readonly<Record<string, string | undefined>> = process.env): PassphraseSource {
  return async (question, confirm) => {
    const file = flags['ca-passphrase-file'];
    if (file !== undefined) {
      const line = readFileBytes(file, 'CA passphrase file').toString('utf8').split(/\r?\n/)[0] ?? '';
      if (line === '') throw fail('CA_PASSPHRASE_MISSING', `${file}: the passphrase file's first line is empty`);
      return line;
    }
    const fromEnv = env[PASSPHRASE_ENV];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    if (!process.stdin.isTTY) return undefined;
    const first = await promptHidden(question);
    if (confirm && first !== (await promptHidden('again: '))) throw fail('CA_PASSPHRASE_MISSING', 'the two passphrases differ; nothing was written');
    return first;
  };
}
