/**
 * Cluster-spec defaults and the commented template `etcd-tls init` prints. No zod or yaml here: the
 * template is plain text so `demo` and `init` can use it without loading a parser.
 */
// pki/san's classifier, not node:net: loading node:net costs ~4 ms of every start.
import { ipVersion } from '../pki/san.js';

export const DEFAULT_CLIENT_PORT = 2379;
export const DEFAULT_PEER_PORT = 2380;
/** kubeadm's defaults too: one year for leaves, ten for the CA. */
export const DEFAULT_LEAF_VALIDITY = '8760h';
export const DEFAULT_CA_VALIDITY = '87600h';
export const DEFAULT_KEY = { algo: 'ecdsa', size: 256 } as const;

/** One member as `init --members` gives it: a name and one address (an IP or a DNS name). */
export interface TemplateMember {
  name: string;
  address: string;
}

export interface TemplateOptions {
  cluster: string;
  members: readonly TemplateMember[];
  /** Only the demo template carries the second member's DNS name, to show the field in use. */
  demoDns?: boolean;
}

export const DEMO_MEMBERS: readonly TemplateMember[] = [
  { name: 'member1', address: '127.0.0.11' },
  { name: 'member2', address: '127.0.0.12' },
  { name: 'member3', address: '127.0.0.13' },
];

// Plain YAML scalars only where they cannot turn into a number, boolean or null; JSON quoting otherwise.
function scalar(value: string): string {
  const ipv4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(value);
  const word = /^[A-Za-z]([A-Za-z0-9 .-]*[A-Za-z0-9])?$/.test(value) && !/^(true|false|null|yes|no|on|off|y|n)$/i.test(value);
  return ipv4 || word ? value : JSON.stringify(value);
}

/** The commented spec template; it always parses with `parseSpec`. */
export function renderSpecTemplate(options: TemplateOptions): string {
  const members = options.members.flatMap((m, i) => {
    const field = ipVersion(m.address) ? 'ips' : 'dns';
    const lines = [`  - name: ${scalar(m.name)}`, `    ${field}: [${scalar(m.address)}]`];
    if (options.demoDns && i === 1) lines.push('    dns: [etcd2.internal]');
    if (i === 0) {
      lines.push(
        '    # dns: [etcd1.example.com]     # DNS names of this member (used in URLs when there is no ip)',
        '    # sans: [etcd.example.com]     # extra SANs on its server and peer certificates (IPs or DNS names)',
        `    # clientPort: ${DEFAULT_CLIENT_PORT}`,
        `    # peerPort: ${DEFAULT_PEER_PORT}`,
        '    # key: {algo: rsa, size: 2048}',
        '    # validity: 8760h',
      );
    }
    return lines;
  });
  return [
    '# etcd-tls cluster spec. Next:  etcd-tls plan cluster.yaml  then  etcd-tls gen cluster.yaml --out pki',
    '# JSON Schema: schema/spec.schema.json in the etcd-tls package. Unknown keys are errors.',
    '# Names (cluster, members, clients) are lowercase letters, digits and "-": they become directory names.',
    '# Durations: Go-style (8760h, 90m) or days/years (365d, 10y).',
    '# Keys: {algo: ecdsa, size: 256|384|521}, {algo: rsa, size: 2048|3072|4096} or {algo: ed25519}.',
    '',
    '# Also the initial-cluster token and the peer hostname peer.<cluster>.etcd.internal that every',
    '# peer certificate carries (members accept only peers whose certificate has it).',
    `cluster: ${scalar(options.cluster)}`,
    '',
    'ca:',
    `  cn: ${scalar(`${options.cluster} etcd CA`)}`,
    `  # key: {algo: ${DEFAULT_KEY.algo}, size: ${DEFAULT_KEY.size}}`,
    `  # validity: ${DEFAULT_CA_VALIDITY}`,
    '  # names: [{C: US, ST: California, L: San Francisco, O: Example, OU: Platform}]',
    '',
    '# defaults:                      # for every member and client that does not set its own',
    `#   key: {algo: ${DEFAULT_KEY.algo}, size: ${DEFAULT_KEY.size}}`,
    `#   validity: ${DEFAULT_LEAF_VALIDITY}`,
    `#   clientPort: ${DEFAULT_CLIENT_PORT}`,
    `#   peerPort: ${DEFAULT_PEER_PORT}`,
    '',
    '# Each member gets a server and a peer certificate (SANs: its name, ips, dns, sans, localhost,',
    '# 127.0.0.1, ::1) and etcd.env / etcd.yaml / etcd.service / install.sh. The first ip (or dns)',
    '# is the address it advertises.',
    'members:',
    ...members,
    '',
    '# Each client gets a client certificate (CN = cn, default the name; no SANs) and etcdctl.env.',
    '# A client named kube-apiserver also gets kube-apiserver.flags and kubeadm-etcd-external.yaml.',
    'clients:',
    '  - name: kube-apiserver',
    '    cn: kube-apiserver-etcd-client',
    '  - name: admin',
    '    cn: root                       # with etcd auth on, the CN is the etcd user name',
    '    # o: [ops]                     # organisation(s), a string or a list',
    '    # validity: 720h',
    '    # key: {algo: ecdsa, size: 384}',
    '',
  ].join('\n');
}

/** The built-in spec: three members on 127.0.0.11-13, the form the README and `etcd-tls demo` use. */
export const DEFAULT_SPEC_YAML: string = renderSpecTemplate({ cluster: 'demo', members: DEMO_MEMBERS, demoDns: true });
