/**
 * `etcd-tls demo`: the main job on built-in defaults. Generates a 3-member cluster on 127.0.0.11-13,
 * and when etcd is installed brings it up over mTLS, writes through member1, reads through member3,
 * shows `member list` (https peer URLs only), shows a certificate-less client being refused, and
 * stops what it started.
 */
import * as path from 'node:path';
import { DEFAULT_SPEC_YAML } from '../../cluster/defaults.js';
import { generateCluster } from '../../cluster/generate.js';
import { ETCD_INSTALL_HINT, findEtcd, startLocalCluster, stopMembers } from '../../cluster/local.js';
import { parseSpec } from '../../cluster/spec.js';
import { fail } from '../../errors.js';
import { checkHealth, getKey, memberList, putKey, type ClientTls } from '../../etcd/gateway.js';
import { PUBLIC_FILE_MODE, readTextFile, writeFilesAtomic } from '../../store/files.js';
import { existsSync } from 'node:fs';
import { parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';
import { summarize } from './gen.js';
import { renderMembers } from './up.js';
import { withoutTornWrites } from '../run.js';

const FLAGS = {
  out: { type: 'string', value: 'DIR', description: 'where to generate the demo cluster (default: ./etcd-tls-demo)' },
  'keep-running': { type: 'boolean', description: 'leave the cluster running at the end (stop it with `etcd-tls down --out DIR`)' },
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls demo [--out DIR] [--keep-running]',
    '',
    'The whole flow on built-in defaults: a CA, server/peer certificates for member1-3 on',
    '127.0.0.11-13, clients kube-apiserver and admin, every config file; then, if etcd is installed,',
    'the cluster is started over mTLS, a key is written through member1 and read through member3,',
    '`member list` shows https peer URLs only, a client without a certificate is refused, and the',
    'cluster is stopped again. The spec it uses is saved as DIR/cluster.yaml.',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Example:',
    '  etcd-tls demo && ls etcd-tls-demo/nodes/member1',
    '',
  ].join('\n');
}

const clientTls = (dir: string, client: string): ClientTls => ({
  ca: readTextFile(path.join(dir, 'clients', client, 'ca.pem'), 'CA certificate'),
  cert: readTextFile(path.join(dir, 'clients', client, 'client.pem'), 'client certificate'),
  key: readTextFile(path.join(dir, 'clients', client, 'client-key.pem'), 'client key'),
});

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags } = parseFlags('demo', args, FLAGS);
  const out = flags.out ?? 'etcd-tls-demo';
  const specFile = path.join(out, 'cluster.yaml');
  const spec = parseSpec(DEFAULT_SPEC_YAML, 'built-in demo spec');
  const rel = path.relative(process.cwd(), path.resolve(out)) || '.';

  io.out(`== 1. Generate the PKI and configuration into ${rel}/\n`);
  const { plan, result } = await withoutTornWrites(io, () => generateCluster(spec, { out, local: true }));
  if (!existsSync(specFile)) writeFilesAtomic([{ path: specFile, data: DEFAULT_SPEC_YAML, mode: PUBLIC_FILE_MODE }]);
  io.out(summarize(result, plan.layout.dir));

  const etcdPath = findEtcd();
  if (!etcdPath) {
    io.out(
      [
        '',
        `etcd is not installed, so the demo stops here. To run the rest: ${ETCD_INSTALL_HINT}, then`,
        `  etcd-tls up ${specFile} --out ${rel}`,
        `  set -a; . ${rel}/clients/admin/etcdctl.env; set +a; etcdctl member list -w table`,
        `  etcd-tls down --out ${rel}`,
        '',
      ].join('\n'),
    );
    return 0;
  }

  io.out(`\n== 2. Start member1-3 with ${etcdPath} (mTLS on client and peer ports)\n`);
  const members = await startLocalCluster(plan.layout, { etcdPath });
  const started = plan.layout.members.filter((m) => members.find((r) => r.name === m.name && !r.alreadyRunning));
  try {
    io.out(renderMembers(members));
    const admin = clientTls(out, 'admin');
    const [m1, , m3] = plan.layout.members;
    if (!m1 || !m3) throw fail('BAD_SPEC', 'the demo spec needs three members');

    const value = `hello from etcd-tls at ${new Date().toISOString()}`;
    io.out(`\n== 3. Write through member1, read through member3 (client certificate CN=root)\n`);
    await putKey(m1.clientUrl, '/etcd-tls/demo', value, admin);
    io.out(`put ${m1.clientUrl} /etcd-tls/demo = "${value}"\n`);
    const read = await getKey(m3.clientUrl, '/etcd-tls/demo', admin);
    io.out(`get ${m3.clientUrl} /etcd-tls/demo = "${read ?? ''}"\n`);
    if (read !== value) throw fail('CLUSTER_UNHEALTHY', `member3 returned "${read ?? '(nothing)'}", expected "${value}"`);

    io.out(`\n== 4. member list (through member2)\n`);
    const list = await memberList(plan.layout.members[1]?.clientUrl ?? m1.clientUrl, admin);
    for (const m of list) io.out(`${m.idHex}, started, ${m.name}, ${m.peerURLs.join(',')}, ${m.clientURLs.join(',')}, ${m.isLearner}\n`);
    const plain = list.flatMap((m) => [...m.peerURLs, ...m.clientURLs]).filter((u) => !u.startsWith('https://'));
    if (plain.length) throw fail('CLUSTER_UNHEALTHY', `members advertise non-https URLs: ${plain.join(', ')}`);
    io.out('every peer and client URL is https\n');

    io.out(`\n== 5. A client without a certificate is refused\n`);
    try {
      await checkHealth(m1.clientUrl, { ca: admin.ca }, 3000);
      throw fail('CLUSTER_UNHEALTHY', `${m1.clientUrl} answered a client without a certificate`);
    } catch (e) {
      if ((e as { code?: string }).code === 'CLUSTER_UNHEALTHY') throw e;
      io.out(`refused: ${(e as Error).message}\n`);
    }

    io.out(
      [
        '',
        'Try it yourself:',
        `  etcd-tls up ${specFile} --out ${rel}`,
        `  set -a; . ${rel}/clients/admin/etcdctl.env; set +a; etcdctl member list -w table`,
        `  etcd-tls check ${rel}`,
        `  etcd-tls down --out ${rel}`,
        '',
      ].join('\n'),
    );
  } finally {
    if (!flags['keep-running']) {
      const stopped = await stopMembers(started);
      io.out(`\n== 6. Stopped ${stopped.filter((s) => s.stopped).map((s) => s.name).join(', ') || 'nothing'} (data kept in ${rel}/nodes/*/data)\n`);
    }
  }
  return 0;
}
