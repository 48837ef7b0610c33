// The cluster spec: defaults, normalization, every bad-input rule (one fixture each), the published
// JSON Schema, and `etcd-tls init` round-tripping through parseSpec.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_SPEC_YAML } from '../../src/cluster/defaults.js';
import { dnsNameProblem, parseSpec, specJsonSchema } from '../../src/cluster/spec.js';
import { REPO_ROOT, etcdTls } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';
import { rejects } from '../helpers/assertions.js';

const SPECS = path.join(REPO_ROOT, 'test/fixtures/specs');
const fixture = (name: string): string => readFileSync(path.join(SPECS, name), 'utf8');
const parseFixture = (name: string) => parseSpec(fixture(name), name);


describe('parseSpec: defaults', () => {
  const spec = parseFixture('demo.yaml');

  test('the issue example gets ports 2379/2380, ECDSA P-256 keys, 8760h leaves and an 87600h CA', () => {
    for (const m of spec.members) {
      assert.deepEqual([m.clientPort, m.peerPort, m.key, m.validity], [2379, 2380, { algo: 'ecdsa', size: 256 }, '8760h']);
    }
    for (const c of spec.clients) assert.deepEqual([c.key, c.validity, c.o], [{ algo: 'ecdsa', size: 256 }, '8760h', []]);
    assert.deepEqual(spec.ca, { cn: 'demo etcd CA', names: [], key: { algo: 'ecdsa', size: 256 }, validity: '87600h' });
    assert.deepEqual(
      spec.members.map((m) => [m.name, m.ips, m.dns, m.sans]),
      [
        ['member1', ['127.0.0.11'], [], []],
        ['member2', ['127.0.0.12'], ['etcd2.internal'], []],
        ['member3', ['127.0.0.13'], [], []],
      ],
    );
    assert.deepEqual(spec.clients.map((c) => [c.name, c.cn]), [['kube-apiserver', 'kube-apiserver-etcd-client'], ['admin', 'root']]);
  });

  test('the JSON form of the same spec parses to the same thing', () => {
    assert.deepEqual(parseFixture('demo.json'), spec);
  });

  test('the built-in DEFAULT_SPEC_YAML is the issue example', () => {
    assert.deepEqual(parseSpec(DEFAULT_SPEC_YAML, 'built-in'), spec);
  });

  test('a spec without ca gets "<cluster> etcd CA"; a client without cn uses its name', () => {
    const s = parseSpec('cluster: lab\nmembers: [{name: m1, ips: [10.0.0.1]}]\nclients: [{name: backup}]\n', 'lab.yaml');
    assert.equal(s.ca.cn, 'lab etcd CA');
    assert.equal(s.clients[0]?.cn, 'backup');
  });
});

describe('parseSpec: normalization (full.yaml)', () => {
  const spec = parseFixture('full.yaml');
  const [a, b, c] = spec.members;

  test('the defaults block applies where a member or client sets nothing, and loses to what it sets', () => {
    assert.deepEqual([a?.clientPort, a?.peerPort, a?.key, a?.validity], [12379, 12380, { algo: 'ecdsa', size: 384 }, '365d']);
    assert.deepEqual([b?.key, b?.validity], [{ algo: 'ed25519', size: 0 }, '4380h']);
    assert.deepEqual([c?.clientPort, c?.peerPort], [2379, 2380]);
    assert.deepEqual(spec.ca.key, { algo: 'rsa', size: 4096 });
    assert.equal(spec.ca.validity, '10y');
    assert.deepEqual(spec.ca.names, [{ C: 'DE', ST: 'Hessen', L: 'Frankfurt', O: 'Example GmbH', OU: 'Platform' }]);
  });

  test('ca.names[].OID: custom CA subject attributes, as in cfssl CSR JSON', () => {
    const custom = parseSpec('cluster: d\nca:\n  names:\n    - O: x\n      OID: {1.3.6.1.4.1.32473.1: team-a}\nmembers: [{name: m, ips: [10.0.0.1]}]\n', 'x.yaml');
    assert.deepEqual(custom.ca.names, [{ O: 'x', OID: { '1.3.6.1.4.1.32473.1': 'team-a' } }]);
  });

  test('addresses are canonical and deduplicated: IPv6 compressed, DNS names lower case', () => {
    assert.deepEqual(a?.ips, ['10.1.0.1', 'fd00::1']);
    assert.deepEqual(a?.dns, ['etcd-a.example.com']);
    assert.deepEqual(a?.sans, ['etcd.example.com', '*.etcd.example.com', '192.0.2.10']);
  });

  test('client o is always a list; an rsa key without size is 2048', () => {
    assert.deepEqual(
      spec.clients.map((cl) => [cl.name, cl.cn, cl.o, cl.key]),
      [
        ['kube-apiserver', 'kube-apiserver', [], { algo: 'ecdsa', size: 384 }],
        ['backup', 'etcd-backup', ['ops', 'backup'], { algo: 'rsa', size: 2048 }],
        ['monitor', 'monitor', ['observability'], { algo: 'ecdsa', size: 384 }],
      ],
    );
  });

  test('two members may share an IP when each has ports of its own', () => {
    const s = parseSpec(
      'cluster: one-host\nmembers:\n  - {name: m1, ips: [127.0.0.1]}\n  - {name: m2, ips: [127.0.0.1], clientPort: 22379, peerPort: 22380}\n',
      'one-host.yaml',
    );
    assert.equal(s.members.length, 2);
  });
});

describe('parseSpec: bad input is one line with a code and the field path', () => {
  // fixture, code, exact message (see test/fixtures/specs/README.md)
  const cases: [string, string, string][] = [
    ['bad-invalid-ip.yaml', 'BAD_SPEC', 'members[1].ips[0]: "10.0.0.300" is not an IPv4 or IPv6 address'],
    ['bad-invalid-dns.yaml', 'BAD_SPEC', 'members[0].dns[0]: "etcd_1.internal" is not a valid DNS name (label "etcd_1" must be letters, digits and "-", not starting or ending with "-")'],
    ['bad-ip-under-dns.yaml', 'BAD_SPEC', 'members[0].dns[0]: "10.0.0.1" is an IP address; list it under ips'],
    ['bad-invalid-san.yaml', 'BAD_SPEC', 'members[0].sans[1]: "etcd example" is neither an IP address nor a valid DNS name'],
    ['bad-duplicate-member-name.yaml', 'DUPLICATE_MEMBER', 'members[2].name: "member1" is already the name of members[0]'],
    ['bad-duplicate-member-ip.yaml', 'DUPLICATE_MEMBER', 'members[1].ips[1]: "10.0.0.1" is already the address of member "member1" (members[0])'],
    ['bad-duplicate-client-name.yaml', 'DUPLICATE_MEMBER', 'clients[1].name: "admin" is already the name of clients[0]'],
    ['bad-port-collision-member.yaml', 'PORT_COLLISION', 'members[0].peerPort: 2379 is also the clientPort of member "member1"'],
    ['bad-port-collision-shared-ip.yaml', 'PORT_COLLISION', 'members[1].peerPort: 2380 on 127.0.0.1 is already the peerPort of member "member1" (members[0])'],
    ['bad-unknown-key.yaml', 'BAD_SPEC', 'members[0].ip: unknown key (expected one of: name, ips, dns, sans, clientPort, peerPort, key, validity)'],
    ['bad-unknown-top-level-key.yaml', 'BAD_SPEC', 'member: unknown key (expected one of: cluster, ca, defaults, members, clients)'],
    ['bad-no-address.yaml', 'BAD_SPEC', 'members[1]: member "member2" has no address: give it ips or dns (or both)'],
    ['bad-member-name.yaml', 'BAD_SPEC', 'members[0].name: "Member_1" is not a valid name: use 1-63 lowercase letters, digits and "-", not starting or ending with "-"'],
    ['bad-cluster-name.yaml', 'BAD_SPEC', 'cluster: "my.cluster" is not a valid name: use 1-63 lowercase letters, digits and "-", not starting or ending with "-"'],
    ['bad-key-size.yaml', 'BAD_SPEC', 'members[0].key.size: 2048 is not an ECDSA size (256, 384 or 521)'],
    ['bad-key-algo.yaml', 'BAD_SPEC', 'ca.key.algo: "dsa" is not a key algorithm (use ecdsa, rsa or ed25519)'],
    ['bad-duration.yaml', 'BAD_SPEC', 'clients[0].validity: "1 year" is not a duration like 8760h, 90m, 365d or 10y'],
    ['bad-port-range.yaml', 'BAD_SPEC', 'defaults.clientPort: 70000 is not a port number (1-65535)'],
    ['bad-wrong-type.yaml', 'BAD_SPEC', 'members[0].ips: must be a list, not the string "10.0.0.1"'],
    ['bad-no-members.yaml', 'BAD_SPEC', 'members: must list at least one member'],
    ['bad-yaml-syntax.yaml', 'BAD_SPEC', 'line 5, column 1: Flow map in block collection must be sufficiently indented and end with a }'],
    ['bad-duplicate-yaml-key.yaml', 'BAD_SPEC', 'line 2, column 1: Map keys must be unique'],
  ];

  for (const [file, code, message] of cases) {
    test(`${file} → ${code}`, () => rejects(() => parseFixture(file), code, `${file}: ${message}`));
  }

  test('every bad-*.yaml fixture is in the table above and in the fixtures README', () => {
    const onDisk = readdirSync(SPECS).filter((f) => f.startsWith('bad-')).sort();
    assert.deepEqual(onDisk, cases.map(([f]) => f).sort());
    const readme = fixture('README.md');
    for (const f of onDisk) assert.ok(readme.includes(`\`${f}\``), `${f} is not described in the fixtures README`);
  });

  const inline: [string, string, string, string][] = [
    ['empty input', '  \n', 'EMPTY_INPUT', 'x.yaml: the spec is empty'],
    ['a list at the top', '- a\n', 'BAD_SPEC', 'x.yaml: must be a mapping with cluster, ca, members and clients (got a list)'],
    ['a missing members list', 'cluster: demo\n', 'BAD_SPEC', 'x.yaml: members: is required'],
    ['a zone id', 'cluster: d\nmembers: [{name: m, ips: ["fe80::1%eth0"]}]\n', 'BAD_SPEC', 'x.yaml: members[0].ips[0]: "fe80::1%eth0" has an IPv6 zone id, which a certificate cannot carry'],
    ['a wildcard outside sans', 'cluster: d\nmembers: [{name: m, dns: ["*.example.com"]}]\n', 'BAD_SPEC', 'x.yaml: members[0].dns[0]: "*.example.com" is a wildcard; wildcards are only allowed in sans'],
    ['the same DNS name on two members', 'cluster: d\nmembers: [{name: a, dns: [e.example]}, {name: b, dns: [E.example]}]\n', 'DUPLICATE_MEMBER', 'x.yaml: members[1].dns[0]: "e.example" is already the address of member "a" (members[0])'],
    ['a client o that is a number', 'cluster: d\nmembers: [{name: m, ips: [10.0.0.1]}]\nclients: [{name: c, o: 5}]\n', 'BAD_SPEC', 'x.yaml: clients[0].o: 5 must be a string or a list of strings'],
    ['an unknown key in a key spec', 'cluster: d\nmembers: [{name: m, ips: [10.0.0.1], key: {algo: rsa, bits: 2048}}]\n', 'BAD_SPEC', 'x.yaml: members[0].key.bits: unknown key (expected one of: algo, size)'],
    ['an ed25519 size', 'cluster: d\nmembers: [{name: m, ips: [10.0.0.1], key: {algo: ed25519, size: 256}}]\n', 'BAD_SPEC', 'x.yaml: members[0].key.size: 256 must be 0 or absent: ed25519 keys have no size'],
    // yaml's toJS throws a bare ReferenceError for these, or stringifies with a Node warning on stderr.
    ['an alias to no anchor', 'cluster: *name\nmembers: [{name: m, ips: [10.0.0.1]}]\n', 'BAD_SPEC', 'x.yaml: line 1, column 10: *name refers to no anchor &name before it'],
    ['a list as a key', 'cluster: d\nmembers:\n  - {[a]: 1, name: m, ips: [10.0.0.1]}\n', 'BAD_SPEC', 'x.yaml: line 3, column 6: a key must be a plain word, not a list or mapping'],
    ['an alias of a mapping as a key', 'cluster: d\nca: &ca {cn: x}\n*ca : 1\nmembers: [{name: m, ips: [10.0.0.1]}]\n', 'BAD_SPEC', 'x.yaml: line 3, column 1: a key must be a plain word, not a list or mapping'],
    ['a CA OID that is not dotted', 'cluster: d\nca: {names: [{O: x}, {OID: {1.2.x: v}}]}\nmembers: [{name: m, ips: [10.0.0.1]}]\n', 'BAD_NAME', 'x.yaml: ca: names[1].OID."1.2.x": is not a dotted OID (decimal arcs, the first 0, 1 or 2, e.g. 1.3.6.1.4.1.32473.1)'],
    ['a CA OID of CN', 'cluster: d\nca: {names: [{OID: {2.5.4.3: v}}]}\nmembers: [{name: m, ips: [10.0.0.1]}]\n', 'BAD_NAME', 'x.yaml: ca: names[0].OID."2.5.4.3": 2.5.4.3 is CN; set it with the "CN" field'],
    ['a CA OID value that is a list', 'cluster: d\nca: {names: [{OID: {1.2.3: [v]}}]}\nmembers: [{name: m, ips: [10.0.0.1]}]\n', 'BAD_SPEC', 'x.yaml: ca.names[0].OID.1.2.3: must be a string, not a list'],
    ['a bad CA country code', 'cluster: d\nca: {names: [{C: USA}]}\nmembers: [{name: m, ips: [10.0.0.1]}]\n', 'BAD_NAME', 'x.yaml: ca: names[0].C: "USA" is not a two-letter country code'],
    ['an alias bomb', `${Array.from({ length: 8 }, (_, i) => `a${i}: &a${i} [${Array(10).fill(i ? `*a${i - 1}` : 'x').join(', ')}]`).join('\n')}\n`, 'BAD_SPEC', 'x.yaml: Excessive alias count indicates a resource exhaustion attack'],
  ];
  for (const [what, text, code, message] of inline) {
    test(`${what} → ${code}`, () => rejects(() => parseSpec(text, 'x.yaml'), code, message));
  }
});

describe('parseSpec: YAML anchors', () => {
  test('an alias to an earlier anchor is its value, as YAML says', () => {
    const spec = parseSpec('cluster: d\ndefaults: {key: &rsa {algo: rsa}}\nmembers: [{name: m, ips: [10.0.0.1]}]\nca: {key: *rsa}\n', 'x.yaml');
    assert.deepEqual(spec.ca.key, { algo: 'rsa', size: 2048 });
    assert.deepEqual(spec.members[0]?.key, { algo: 'rsa', size: 2048 });
  });

  test('the CLI reports a list used as a key in one line, without a Node warning', async (t) => {
    const dir = await makeTempDir(t, 'spec-key-');
    writeFileSync(path.join(dir, 'bad.yaml'), 'cluster: d\nmembers:\n  - {[a]: 1, name: m, ips: [10.0.0.1]}\n');
    const r = await etcdTls(['plan', 'bad.yaml', '--out', 'pki'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'etcd-tls: BAD_SPEC: bad.yaml: line 3, column 6: a key must be a plain word, not a list or mapping\n');
  });
});

describe('dnsNameProblem (RFC 1123)', () => {
  const cases: [string, boolean, string | undefined][] = [
    ['etcd-1.example.com', false, undefined],
    ['1etcd.example.com', false, undefined],
    ['*.example.com', true, undefined],
    ['*.example.com', false, 'is a wildcard; wildcards are only allowed in sans'],
    ['a..b', false, 'is not a valid DNS name (empty label)'],
    ['-a.example', false, 'is not a valid DNS name (label "-a" must be letters, digits and "-", not starting or ending with "-")'],
    [`${'a'.repeat(64)}.example`, false, `is not a valid DNS name (label "${'a'.repeat(64)}" is longer than 63 characters)`],
    [`${'a.'.repeat(127)}ab`, false, 'is not a valid DNS name (1 to 253 characters)'],
    ['10.0.0.300', false, 'is not a valid DNS name (all-numeric last label; a mistyped IP address?)'],
    ['example.com.', false, 'is not a valid DNS name (empty label)'],
  ];
  for (const [name, wildcard, problem] of cases) {
    test(`${name.length > 40 ? `${name.slice(0, 20)}…(${name.length})` : name}${wildcard ? ' (wildcard allowed)' : ''}`, () =>
      assert.equal(dnsNameProblem(name, wildcard), problem));
  }
});

describe('schema/spec.schema.json', () => {
  test('is the JSON Schema of the zod spec schema (UPDATE_SCHEMA=1 rewrites it)', () => {
    const file = path.join(REPO_ROOT, 'schema/spec.schema.json');
    const current = `${JSON.stringify(specJsonSchema(), null, 2)}\n`;
    if (process.env.UPDATE_SCHEMA === '1') writeFileSync(file, current);
    assert.equal(readFileSync(file, 'utf8'), current, 'schema/spec.schema.json is stale: run UPDATE_SCHEMA=1 node --test dist/test/unit/spec.test.js');
  });

  test('rejects unknown keys and lists every member field', () => {
    const schema = specJsonSchema() as { additionalProperties: boolean; properties: { members: { items: { properties: object } } } };
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(Object.keys(schema.properties.members.items.properties), ['name', 'ips', 'dns', 'sans', 'clientPort', 'peerPort', 'key', 'validity']);
  });
});

describe('etcd-tls init', () => {
  test('prints the demo template, which parses to the issue example', async () => {
    const r = await etcdTls(['init']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, DEFAULT_SPEC_YAML);
    assert.deepEqual(parseSpec(r.stdout, 'init'), parseFixture('demo.yaml'));
  });

  test('--members and --cluster fill in the template; IPs go to ips, names to dns', async () => {
    const r = await etcdTls(['init', '--cluster', 'prod', '--members', 'etcd1=10.0.0.1,etcd2=fd00::2,etcd3=etcd3.example.com']);
    assert.equal(r.code, 0, r.stderr);
    const spec = parseSpec(r.stdout, 'init');
    assert.equal(spec.cluster, 'prod');
    assert.equal(spec.ca.cn, 'prod etcd CA');
    assert.deepEqual(spec.members.map((m) => [m.name, m.ips, m.dns]), [
      ['etcd1', ['10.0.0.1'], []],
      ['etcd2', ['fd00::2'], []],
      ['etcd3', [], ['etcd3.example.com']],
    ]);
    assert.match(r.stdout, /^# /, 'the template is commented');
  });

  test('--out writes the file and never replaces an existing one', async (t) => {
    const dir = await makeTempDir(t, 'init-');
    const out = path.join(dir, 'cluster.yaml');
    const first = await etcdTls(['init', '--out', out]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(readFileSync(out, 'utf8'), DEFAULT_SPEC_YAML);

    writeFileSync(out, 'cluster: mine\n');
    const second = await etcdTls(['init', '--members', 'a=10.0.0.1', '--out', out]);
    assert.equal(second.code, 1);
    assert.equal(second.stderr, `etcd-tls: WOULD_OVERWRITE: ${out}: exists; refusing to overwrite it (remove it or choose another --out)\n`);
    assert.equal(readFileSync(out, 'utf8'), 'cluster: mine\n');
  });

  test('a bad --members entry is one line with a code, and nothing is written', async (t) => {
    const dir = await makeTempDir(t, 'init-');
    const out = path.join(dir, 'cluster.yaml');
    const cases: [string, string][] = [
      ['m1=10.0.0.1,m1=10.0.0.2', 'etcd-tls: DUPLICATE_MEMBER: init: members[1].name: "m1" is already the name of members[0]\n'],
      ['m1=10.0.0.1,m2', 'etcd-tls: USAGE: init: --members entry 2 ("m2") must be name=address, e.g. member1=10.0.0.1\n'],
      ['Node_1=10.0.0.1', 'etcd-tls: BAD_SPEC: init: members[0].name: "Node_1" is not a valid name: use 1-63 lowercase letters, digits and "-", not starting or ending with "-"\n'],
    ];
    for (const [members, stderr] of cases) {
      const r = await etcdTls(['init', '--members', members, '--out', out]);
      assert.deepEqual([r.code, r.stderr], [1, stderr]);
      assert.equal(existsSync(out), false);
    }
  });
});
