/** `etcd-tls down --out DIR`: stop exactly the members `up` started (by their pid files); keep the data. */
import { membersInDir, stopMembers } from '../../cluster/local.js';
import { parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';

const FLAGS = {
  out: { type: 'string', value: 'DIR', description: 'the directory `up` ran in (default: ./etcd-tls-pki)' },
  json: { type: 'boolean', description: 'print JSON' },
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls down [--out DIR] [--json]',
    '',
    'Stop the etcd members that `etcd-tls up` started in DIR: only processes named in',
    'DIR/nodes/<member>/etcd.pid that are still that member are signalled (SIGTERM, then SIGKILL',
    'after 10 s). Data directories are kept, so `up` resumes the same cluster.',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Example:',
    '  etcd-tls down --out pki',
    '',
  ].join('\n');
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags } = parseFlags('down', args, FLAGS);
  const stopped = await stopMembers(membersInDir(flags.out ?? 'etcd-tls-pki'));
  if (flags.json) io.out(`${JSON.stringify(stopped, null, 2)}\n`);
  else for (const s of stopped) io.out(s.stopped ? `stopped ${s.name} (pid ${s.pid})\n` : `${s.name}: not running\n`);
  return 0;
}
