// The layout (URLs, certificate intents, paths) and the config renderers, on the demo spec and on
// edge cases. The real etcd binary's --help and sh are the independent judges of names and syntax.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseSpec } from '../../src/cluster/spec.js';
import { certificateIntents, layoutCluster, type ClusterLayout } from '../../src/cluster/layout.js';
import {
  etcdEnvironment,
  renderConfigFiles,
  renderEtcdEnv,
  renderEtcdYaml,
  renderInstallScript,
  renderKubeApiserverFlags,
  renderKubeadmExternal,
} from '../../src/cluster/render.js';
import { REPO_ROOT, findBinary, requireBinary, run } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

const demoSpec = parseSpec(readFileSync(path.join(REPO_ROOT, 'test/fixtures/specs/demo.yaml'), 'utf8'), 'demo.yaml');
const DIR = '/srv/pki';
const demo = layoutCluster(demoSpec, { dir: DIR });
const member = (l: ClusterLayout, name: string) => l.members.find((m) => m.name === name) as ClusterLayout['members'][number];
const client = (l: ClusterLayout, name: string) => l.clients.find((c) => c.name === name) as ClusterLayout['clients'][number];

const ETCD_ENV_NAMES = [
  'ETCD_NAME', 'ETCD_DATA_DIR', 'ETCD_LISTEN_CLIENT_URLS', 'ETCD_ADVERTISE_CLIENT_URLS', 'ETCD_LISTEN_PEER_URLS',
  'ETCD_INITIAL_ADVERTISE_PEER_URLS', 'ETCD_INITIAL_CLUSTER', 'ETCD_INITIAL_CLUSTER_STATE', 'ETCD_INITIAL_CLUSTER_TOKEN',
  'ETCD_CERT_FILE', 'ETCD_KEY_FILE', 'ETCD_TRUSTED_CA_FILE', 'ETCD_CLIENT_CERT_AUTH', 'ETCD_PEER_CERT_FILE',
  'ETCD_PEER_KEY_FILE', 'ETCD_PEER_TRUSTED_CA_FILE', 'ETCD_PEER_CLIENT_CERT_AUTH', 'ETCD_CLIENT_CRL_FILE', 'ETCD_PEER_CRL_FILE',
  'ETCD_PEER_CERT_ALLOWED_HOSTNAME',
];

/** What `sh` sees after sourcing a file: the variables named, read back from a real shell. */
async function sourced(file: string, names: readonly string[], allExport = false): Promise<Record<string, string>> {
  const script = `${allExport ? 'set -a; ' : ''}. "$1" && for n in ${names.join(' ')}; do eval "printf '%s\\0' \\"\\$$n\\""; done`;
  const r = await run('sh', ['-c', script, 'sh', file], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  assert.equal(r.code, 0, r.stderr);
  const values = r.stdout.split('\0').slice(0, -1);
  return Object.fromEntries(names.map((n, i) => [n, values[i] as string]));
}

describe('layout of the demo spec', () => {
  test('URLs: advertise the first IP, listen on the member IPs only, initial-cluster lists every peer URL', () => {
    assert.deepEqual(
      demo.members.map((m) => [m.clientUrl, m.peerUrl, m.listenClientUrls, m.listenPeerUrls]),
      [11, 12, 13].map((n) => [
        `https://127.0.0.${n}:2379`,
        `https://127.0.0.${n}:2380`,
        [`https://127.0.0.${n}:2379`],
        [`https://127.0.0.${n}:2380`],
      ]),
    );
    assert.equal(demo.initialCluster, 'member1=https://127.0.0.11:2380,member2=https://127.0.0.12:2380,member3=https://127.0.0.13:2380');
    assert.deepEqual(demo.clientEndpoints, ['https://127.0.0.11:2379', 'https://127.0.0.12:2379', 'https://127.0.0.13:2379']);
  });

  test('server and peer SANs: name, ips, dns, localhost, 127.0.0.1, ::1; peers add peer.<cluster>.etcd.internal', () => {
    const m2 = member(demo, 'member2');
    assert.deepEqual(m2.server.dns, ['member2', 'etcd2.internal', 'localhost']);
    assert.deepEqual(m2.server.ips, ['127.0.0.12', '127.0.0.1', '::1']);
    assert.deepEqual(m2.peer.dns, ['member2', 'etcd2.internal', 'peer.demo.etcd.internal', 'localhost']);
    assert.deepEqual(m2.peer.ips, m2.server.ips);
    assert.deepEqual(member(demo, 'member1').server.dns, ['member1', 'localhost']);
    assert.deepEqual([m2.server.subject, m2.peer.subject], [{ CN: 'member2' }, { CN: 'member2' }]);
    assert.equal(demo.peerHostname, 'peer.demo.etcd.internal');
  });

  test('usages: server and peer both serve and dial; clients only dial', () => {
    const both = ['digital signature', 'key encipherment', 'server auth', 'client auth'];
    assert.deepEqual([member(demo, 'member1').server.usages, member(demo, 'member1').peer.usages], [both, both]);
    assert.deepEqual(client(demo, 'admin').certificate.usages, ['digital signature', 'key encipherment', 'client auth']);
  });

  test('client certificates: CN from the spec, no SANs at all', () => {
    assert.deepEqual(
      demo.clients.map((c) => [c.certificate.path, c.certificate.subject, c.certificate.dns, c.certificate.ips]),
      [
        ['clients/kube-apiserver/client', { CN: 'kube-apiserver-etcd-client' }, [], []],
        ['clients/admin/client', { CN: 'root' }, [], []],
      ],
    );
  });

  test('the CA intent and the certificate list', () => {
    assert.deepEqual(demo.ca.intent, { path: 'ca', role: 'ca', subject: { CN: 'demo etcd CA', names: [] }, key: { algo: 'ecdsa', size: 256 }, validity: '87600h' });
    assert.deepEqual([demo.ca.cert, demo.ca.key], ['/srv/pki/ca.pem', '/srv/pki/ca-key.pem']);
    assert.deepEqual(certificateIntents(demo).map((c) => c.path), [
      'nodes/member1/server', 'nodes/member1/peer', 'nodes/member2/server', 'nodes/member2/peer',
      'nodes/member3/server', 'nodes/member3/peer', 'clients/kube-apiserver/client', 'clients/admin/client',
    ]);
  });

  test('files in DIR and installed paths the configs reference', () => {
    const m1 = member(demo, 'member1');
    assert.deepEqual(Object.values(m1.files), [
      'ca.pem', 'crl.der', 'server.pem', 'server-key.pem', 'peer.pem', 'peer-key.pem', 'etcd.env', 'etcd.yaml', 'etcd.service', 'install.sh',
    ].map((f) => `/srv/pki/nodes/member1/${f}`));
    assert.deepEqual(m1.installed, {
      pkiDir: '/etc/etcd/pki', ca: '/etc/etcd/pki/ca.pem', crl: '/etc/etcd/pki/crl.der', serverCert: '/etc/etcd/pki/server.pem', serverKey: '/etc/etcd/pki/server-key.pem',
      peerCert: '/etc/etcd/pki/peer.pem', peerKey: '/etc/etcd/pki/peer-key.pem', env: '/etc/etcd/etcd.env', dataDir: '/var/lib/etcd',
    });
    assert.deepEqual(client(demo, 'admin').installed.cert, '/etc/etcd/pki/clients/admin/client.pem');
    assert.deepEqual(client(demo, 'kube-apiserver').installed.cert, '/etc/kubernetes/pki/etcd-tls/client.pem');
    assert.deepEqual(
      renderConfigFiles(demo).map((f) => [path.relative(DIR, f.path), f.mode.toString(8)]).filter(([p]) => p?.startsWith('clients/')),
      [
        ['clients/kube-apiserver/etcdctl.env', '644'],
        ['clients/kube-apiserver/kube-apiserver.flags', '644'],
        ['clients/kube-apiserver/kubeadm-etcd-external.yaml', '644'],
        ['clients/admin/etcdctl.env', '644'],
      ],
    );
  });
});

describe('layout edge cases', () => {
  const spec = parseSpec(
    [
      'cluster: edge',
      'members:',
      '  - {name: v6, ips: ["fd00::1", 10.0.0.1], sans: [etcd.example.com, "*.etcd.example.com", 10.0.0.1, 192.0.2.1]}',
      '  - {name: named, dns: [etcd2.example.com], clientPort: 12379, peerPort: 12380}',
      'clients:',
      '  - {name: api, cn: kube-apiserver-etcd-client, o: [a, b]}',
      '',
    ].join('\n'),
    'edge.yaml',
  );
  const l = layoutCluster(spec, { dir: DIR });

  test('IPv6 hosts are bracketed in URLs; every IP of the member is a listen URL', () => {
    const v6 = member(l, 'v6');
    assert.equal(v6.clientUrl, 'https://[fd00::1]:2379');
    assert.deepEqual(v6.listenPeerUrls, ['https://[fd00::1]:2380', 'https://10.0.0.1:2380']);
  });

  test('extra sans are split into DNS and IP SANs without duplicates', () => {
    const v6 = member(l, 'v6');
    assert.deepEqual(v6.server.dns, ['v6', 'etcd.example.com', '*.etcd.example.com', 'localhost']);
    assert.deepEqual(v6.server.ips, ['fd00::1', '10.0.0.1', '192.0.2.1', '127.0.0.1', '::1']);
  });

  test('a member known only by DNS advertises its name and listens on every interface', () => {
    const named = member(l, 'named');
    assert.deepEqual([named.clientUrl, named.listenClientUrls], ['https://etcd2.example.com:12379', ['https://0.0.0.0:12379']]);
  });

  test('a client whose CN is kube-apiserver-etcd-client gets the kube-apiserver files; O is kept', () => {
    const api = client(l, 'api');
    assert.equal(api.kubeApiserver, true);
    assert.deepEqual(api.certificate.subject, { CN: 'kube-apiserver-etcd-client', O: ['a', 'b'] });
    assert.equal(path.basename(api.files.kubeadmExternal ?? ''), 'kubeadm-etcd-external.yaml');
  });
});

describe('--local', () => {
  const local = layoutCluster(demoSpec, { dir: DIR, local: true });

  test('every path in every config points inside DIR; data dirs are DIR/nodes/<member>/data', () => {
    assert.equal(member(local, 'member1').installed.dataDir, '/srv/pki/nodes/member1/data');
    const env = Object.fromEntries(etcdEnvironment(local, member(local, 'member3')));
    assert.equal(env.ETCD_PEER_KEY_FILE, '/srv/pki/nodes/member3/peer-key.pem');
    assert.equal(env.ETCD_TRUSTED_CA_FILE, '/srv/pki/nodes/member3/ca.pem');
    for (const f of renderConfigFiles(local)) {
      if (f.path.endsWith('install.sh')) continue;
      const paths = f.data.replace(/^#.*$/gm, '').match(/\/[\w./-]+\.(pem|env)\b|\/(etc|var)\/[\w./-]+/g) ?? [];
      const outside = paths.filter((p) => !p.startsWith(`${DIR}/`));
      assert.deepEqual(outside, [], `${f.path} references paths outside DIR`);
    }
    assert.match(renderKubeApiserverFlags(local, client(local, 'kube-apiserver')), / --etcd-cafile=\/srv\/pki\/clients\/kube-apiserver\/ca.pem /);
  });

  test('install.sh refuses to install a --local member', async (t) => {
    const dir = await makeTempDir(t, 'render-');
    const file = path.join(dir, 'install.sh');
    await writeFile(file, renderInstallScript(local, member(local, 'member1')));
    const r = await run('sh', [file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /generated with --local/);
  });
});

describe('renderers', () => {
  const m1 = member(demo, 'member1');

  test('etcd.env of the demo has exactly the listed variables, each once, and a header', () => {
    const text = renderEtcdEnv(demo, m1);
    const names = text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.slice(0, l.indexOf('=')));
    assert.deepEqual(names, ETCD_ENV_NAMES);
    assert.match(text, /^# etcd\.env for member member1 of cluster demo, generated by etcd-tls/);
    assert.match(text, /Environment=ETCD_NAME=%H/);
    assert.match(text, /Never repeat any of these settings as a command-line flag/);
    assert.match(text, /^ETCD_PEER_CERT_ALLOWED_HOSTNAME="peer\.demo\.etcd\.internal"$/m);
    assert.match(text, /^ETCD_INITIAL_CLUSTER_TOKEN="demo"$/m);
  });

  test('every ETCD_* variable is a flag etcd 3.4 lists in etcd --help', async (t) => {
    if (!requireBinary(t, 'etcd')) return;
    const r = await run('etcd', ['--help'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    const help = r.stdout + r.stderr;
    const unknown = etcdEnvironment(demo, m1)
      .map(([k]) => k.slice('ETCD_'.length).toLowerCase().replace(/_/g, '-'))
      .filter((flag) => !new RegExp(`^\\s*--${flag}(\\s|$)`, 'm').test(help));
    assert.deepEqual(unknown, [], 'variables etcd --help does not list');
  });

  test('every etcd.yaml key is a config-file field of the installed etcd binary', (t) => {
    if (!requireBinary(t, 'etcd')) return;
    // --help omits some keys (enable-grpc-gateway); the config file is decoded through the struct's json
    // tags, which the binary carries verbatim.
    const binary = readFileSync(findBinary('etcd') as string).toString('latin1');
    const keys = (o: Record<string, unknown>): string[] =>
      Object.entries(o).flatMap(([k, v]) => [k, ...(v && typeof v === 'object' ? keys(v as Record<string, unknown>) : [])]);
    const unknown = keys(parseYaml(renderEtcdYaml(demo, m1)) as Record<string, unknown>).filter((k) => !binary.includes(`json:"${k}"`));
    assert.deepEqual(unknown, [], 'keys etcd does not decode');
  });

  test('etcd.yaml: the gateway is on, both transports require client certificates, the header names 3.4 limits', () => {
    const text = renderEtcdYaml(demo, m1);
    const yaml = parseYaml(text) as Record<string, unknown>;
    assert.equal(yaml['enable-grpc-gateway'], true);
    const tls = { 'trusted-ca-file': '/etc/etcd/pki/ca.pem', 'client-cert-auth': true, 'auto-tls': false };
    assert.deepEqual(yaml['client-transport-security'], { 'cert-file': '/etc/etcd/pki/server.pem', 'key-file': '/etc/etcd/pki/server-key.pem', ...tls });
    assert.deepEqual(yaml['peer-transport-security'], { 'cert-file': '/etc/etcd/pki/peer.pem', 'key-file': '/etc/etcd/pki/peer-key.pem', ...tls });
    assert.equal(yaml['initial-cluster'], demo.initialCluster);
    assert.match(text, /ignores every command-line\n# flag and every ETCD_\* variable/);
    assert.match(text, /allowed-hostname/);
    assert.match(text, /crl-file/);
  });

  test('etcd.service runs etcd with no flags from the EnvironmentFile', () => {
    const unit = renderConfigFiles(demo).find((f) => f.path === m1.files.service)?.data ?? '';
    const directives = unit.split('\n').filter((l) => /^[A-Za-z]+=/.test(l));
    for (const d of ['Type=notify', 'User=etcd', 'EnvironmentFile=/etc/etcd/etcd.env', 'ExecStart=/usr/bin/etcd', 'Restart=on-failure', 'LimitNOFILE=65536']) {
      assert.ok(directives.includes(d), `missing ${d}`);
    }
  });

  test('install.sh is valid POSIX sh and installs keys 0600, certs 0644, pki dir 0700, the CA into the trust store', async () => {
    const script = renderInstallScript(demo, m1);
    const r = await run('sh', ['-n'], { stdin: script });
    assert.equal(r.code, 0, r.stderr);
    assert.match(script, /^#!\/bin\/sh\n/);
    assert.match(script, /^set -eu$/m);
    assert.match(script, /^install -d -m 0700 -o etcd -g "\$group" '\/etc\/etcd\/pki'$/m);
    assert.match(script, /^install -m 0600 -o etcd -g "\$group" server-key.pem '\/etc\/etcd\/pki\/server-key.pem'$/m);
    assert.match(script, /^install -m 0644 -o etcd -g "\$group" server.pem '\/etc\/etcd\/pki\/server.pem'$/m);
    assert.match(script, /^install -d -m 0700 -o etcd -g "\$group" '\/var\/lib\/etcd'$/m);
    assert.match(script, /\/usr\/local\/share\/ca-certificates\/etcd-demo-ca\.crt/);
    assert.match(script, /\/etc\/pki\/ca-trust\/source\/anchors\//);
    assert.match(script, /^systemctl daemon-reload$/m);
  });

  test('etcdctl.env and etcd.env read back exactly through sh, also with awkward characters in DIR', async (t) => {
    const dir = await makeTempDir(t, 'render-');
    const odd = path.join(dir, `o'dd "dir" $HOME \`x\` \\`);
    const l = layoutCluster(demoSpec, { dir: odd, local: true });
    const admin = client(l, 'admin');
    const envFile = path.join(dir, 'etcdctl.env');
    await writeFile(envFile, renderConfigFiles(l).find((f) => f.path === admin.files.etcdctlEnv)?.data ?? '');
    const ctl = await sourced(envFile, ['ETCDCTL_API', 'ETCDCTL_ENDPOINTS', 'ETCDCTL_CACERT', 'ETCDCTL_CERT', 'ETCDCTL_KEY']);
    assert.deepEqual(ctl, {
      ETCDCTL_API: '3',
      ETCDCTL_ENDPOINTS: 'https://127.0.0.11:2379,https://127.0.0.12:2379,https://127.0.0.13:2379',
      ETCDCTL_CACERT: path.join(odd, 'clients/admin/ca.pem'),
      ETCDCTL_CERT: path.join(odd, 'clients/admin/client.pem'),
      ETCDCTL_KEY: path.join(odd, 'clients/admin/client-key.pem'),
    });
    const memberEnv = path.join(dir, 'etcd.env');
    await writeFile(memberEnv, renderEtcdEnv(l, member(l, 'member2')));
    assert.deepEqual(await sourced(memberEnv, ETCD_ENV_NAMES, true), Object.fromEntries(etcdEnvironment(l, member(l, 'member2'))));
  });

  test('kube-apiserver.flags is one line; the kubeadm snippet is a v1beta3 ClusterConfiguration with etcd.external', () => {
    const api = client(demo, 'kube-apiserver');
    assert.equal(
      renderKubeApiserverFlags(demo, api),
      '--etcd-servers=https://127.0.0.11:2379,https://127.0.0.12:2379,https://127.0.0.13:2379 --etcd-cafile=/etc/kubernetes/pki/etcd-tls/ca.pem --etcd-certfile=/etc/kubernetes/pki/etcd-tls/client.pem --etcd-keyfile=/etc/kubernetes/pki/etcd-tls/client-key.pem\n',
    );
    const text = renderKubeadmExternal(demo, api);
    assert.deepEqual(parseYaml(text), {
      apiVersion: 'kubeadm.k8s.io/v1beta3',
      kind: 'ClusterConfiguration',
      etcd: {
        external: {
          endpoints: demo.clientEndpoints,
          caFile: '/etc/kubernetes/pki/etcd-tls/ca.pem',
          certFile: '/etc/kubernetes/pki/etcd-tls/client.pem',
          keyFile: '/etc/kubernetes/pki/etcd-tls/client-key.pem',
        },
      },
    });
    assert.match(text, /v1beta4/);
  });

  test('output is deterministic: a fresh parse and layout renders the same bytes', () => {
    const again = layoutCluster(parseSpec(readFileSync(path.join(REPO_ROOT, 'test/fixtures/specs/demo.yaml'), 'utf8'), 'demo.yaml'), { dir: DIR });
    assert.deepEqual(renderConfigFiles(again), renderConfigFiles(demo));
  });
});
