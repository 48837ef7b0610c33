/** `etcd-tls init`: print or write a commented cluster spec template. */
import { existsSync } from 'node:fs';
import { fail } from '../../errors.js';
import { DEFAULT_SPEC_YAML, DEMO_MEMBERS, renderSpecTemplate, type TemplateMember } from '../../cluster/defaults.js';
import { parseSpec } from '../../cluster/spec.js';
import { PUBLIC_FILE_MODE, writeFileAtomic } from '../../store/files.js';
import { parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';

const FLAGS = {
  members: { type: 'string', value: 'LIST', description: 'members as name=address,... (address: an IP or a DNS name); default: the 3-member demo on 127.0.0.11-13' },
  cluster: { type: 'string', value: 'NAME', description: 'cluster name (default: demo, or etcd with --members)' },
  out: { type: 'string', value: 'FILE', description: 'write the template to FILE (never replaces an existing file) instead of stdout' },
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls init [--members name=address,...] [--cluster NAME] [--out FILE]',
    '',
    'Print a commented cluster spec (YAML) to edit and pass to plan/gen. Every option the spec',
    'accepts is shown, commented out, with its default.',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    '  etcd-tls init > cluster.yaml                 # the demo: member1-3 on 127.0.0.11-13',
    '  etcd-tls init --cluster prod --members etcd1=10.0.0.1,etcd2=10.0.0.2,etcd3=etcd3.example.com --out cluster.yaml',
    '',
  ].join('\n');
}

/** `name=address,name=address` → members; the spec parser judges the names and addresses. */
export function parseMembersFlag(value: string): TemplateMember[] {
  return value.split(',').map((entry, i) => {
    const eq = entry.indexOf('=');
    const name = entry.slice(0, eq).trim();
    const address = entry.slice(eq + 1).trim();
    if (eq < 0 || name === '' || address === '') {
      throw fail('USAGE', `init: --members entry ${i + 1} (${JSON.stringify(entry)}) must be name=address, e.g. member1=10.0.0.1`);
    }
    return { name, address };
  });
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('init', args, FLAGS);
  if (positionals.length > 0) throw fail('USAGE', `init: unexpected argument ${JSON.stringify(positionals[0])} (see 'etcd-tls init --help')`);
  const members = flags.members === undefined ? undefined : parseMembersFlag(flags.members);
  const cluster = flags.cluster ?? (members ? 'etcd' : 'demo');
  const text =
    members === undefined && cluster === 'demo'
      ? DEFAULT_SPEC_YAML
      : renderSpecTemplate({ cluster, members: members ?? DEMO_MEMBERS, demoDns: members === undefined });
  // What init prints must be what gen accepts: bad names or addresses fail here, not later.
  parseSpec(text, 'init');

  if (flags.out === undefined) {
    io.out(text);
    return 0;
  }
  if (existsSync(flags.out)) throw fail('WOULD_OVERWRITE', `${flags.out}: exists; refusing to overwrite it (remove it or choose another --out)`);
  writeFileAtomic({ path: flags.out, data: text, mode: PUBLIC_FILE_MODE, noClobber: true });
  io.out(`wrote ${flags.out}; next: etcd-tls plan ${flags.out}\n`);
  return 0;
}
