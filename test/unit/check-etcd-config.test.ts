/** Reading etcd's configuration the way etcd 3.4.23 reads it: env files, flags, YAML, and how they merge. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  flatYamlReads,
  mergeEtcdConfig,
  parseEtcdArgs,
  parseEtcdEnvFile,
  parseEtcdYaml,
  splitCommandLine,
  type EtcdConfigSource,
} from '../../src/etcd/config.js';

const values = (src: EtcdConfigSource): Record<string, string> => Object.fromEntries(src.settings.map((s) => [s.flag, s.value]));

describe('parseEtcdEnvFile', () => {
  test('reads quoted, unquoted and exported values, skips comments, keeps line numbers', () => {
    const text = [
      '# generated',
      '; systemd comment',
      '',
      'ETCD_NAME="member1"',
      "export ETCD_DATA_DIR='/var/lib/etcd'",
      '  ETCD_LISTEN_CLIENT_URLS=https://10.0.0.1:2379',
      'ETCD_INITIAL_CLUSTER="m1=https://10.0.0.1:2380,\\',
      'm2=https://10.0.0.2:2380"',
      'ETCD_CERT_FILE="/etc/etcd/pki/with \\"quote\\".pem"',
      'PATH=/usr/bin',
      '',
    ].join('\n');
    const src = parseEtcdEnvFile(text, 'etcd.env');
    assert.deepEqual(values(src), {
      name: 'member1',
      'data-dir': '/var/lib/etcd',
      'listen-client-urls': 'https://10.0.0.1:2379',
      'initial-cluster': 'm1=https://10.0.0.1:2380,m2=https://10.0.0.2:2380',
      'cert-file': '/etc/etcd/pki/with "quote".pem',
    });
    assert.deepEqual(src.settings[0]?.origin, { kind: 'env', file: 'etcd.env', line: 4, name: 'ETCD_NAME' });
    assert.equal(src.settings.find((s) => s.flag === 'cert-file')?.origin.line, 9);
    assert.deepEqual(src.problems, []);
  });

  test('parses DAEMON_ARGS as flags, as Debian\'s unit passes them to etcd', () => {
    const src = parseEtcdEnvFile('DAEMON_ARGS="--name m1 --client-cert-auth --cert-file=/x.pem"\n', '/etc/default/etcd');
    assert.deepEqual(values(src), { name: 'm1', 'client-cert-auth': 'true', 'cert-file': '/x.pem' });
    assert.equal(src.settings[0]?.origin.kind, 'flag');
    assert.equal(src.settings[0]?.origin.name, 'DAEMON_ARGS --name');
  });

  test('sorts out removed, unknown and malformed entries', () => {
    const src = parseEtcdEnvFile('ETCD_CA_FILE=/ca.pem\nETCD_TLS_MIN_VERSION=TLS1.3\nnot an assignment\n', 'e');
    assert.deepEqual(src.ignored.map((i) => [i.origin.name, i.reason]), [['ETCD_CA_FILE', 'removed'], ['ETCD_TLS_MIN_VERSION', 'unknown']]);
    assert.equal(src.problems.length, 1);
    assert.equal(src.problems[0]?.origin.line, 3);
  });
});

describe('parseEtcdYaml: the line reader of flat files against the yaml package', () => {
  // Deterministic: the same texts on every run.
  let seed = 7;
  const pick = <T>(xs: readonly T[]): T => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return xs[seed % xs.length] as T;
  };
  // Flat lines (what the line reader takes) and odd ones (what it must leave to the yaml package, or read the same).
  const FLAT_KEYS = ['name', 'initial-cluster', 'cert-file', 'client-cert-auth', 'bogus', 'peer-crl-file', 'allowed-hostname', 'tls-min-version'];
  const FLAT_VALUES = ['"x"', '"a b:#"', "'s'", "'a\\b'", 'plain', 'true', 'True', 'FALSE', 'null', 'NULL', '0', '12', 'https://10.0.0.1:2379', '/var/lib', 'a,b', '""', "''", ''];
  const ODD_KEYS = ['null', 'true', 'a_b', 'Name', '"q"'];
  const ODD_VALUES = ['"a\\"b"', "'it''s'", '~', '010', '0x1F', '1e3', '.inf', 'a:', 'a: b', 'x # c', '"x" # c', '[a, b]', '- a', '&a x', '*a', '!!str 1', '"é"', '|', '"open', 'a\tb'];
  const ODD_LINES = ['---', '...', '- item', 'key:value', ' ', '%YAML 1.2', '\tname: x', ' name: x', 'name: x', 'name: "again"'];
  const flatLine = (): string => `${pick(FLAT_KEYS)}:${(() => {
    const v = pick(FLAT_VALUES);
    return v ? ` ${v}${pick(['', '', '  '])}` : '';
  })()}`;

  test('the generated shape, and 3,000 variations of keys, values, blocks, indentation and line ends, read the same both ways', () => {
    const generated = [
      '# etcd.yaml for member m1',
      'name: "m1"',
      'initial-cluster: "m1=https://10.0.0.1:2380,m2=https://10.0.0.2:2380"',
      'initial-cluster-state: "new"',
      'enable-grpc-gateway: true',
      'heartbeat-interval: 100',
      'client-transport-security:',
      '  cert-file: "/etc/etcd/pki/server.pem"',
      '  client-cert-auth: true',
      'peer-transport-security:',
      '  cert-file: "/etc/etcd/pki/peer.pem"',
      '  auto-tls: false',
      '',
    ].join('\n');
    const texts = [generated, '', '\n', '# only a comment\n'];
    for (let k = 0; k < 3000; k++) {
      const lines: string[] = [];
      const seen = new Set<string>();
      for (let j = 0; j < 1 + (k % 6); j++) {
        const line = flatLine();
        const key = line.split(':')[0] as string;
        if (!seen.has(key)) lines.push(line);
        seen.add(key);
      }
      if (k % 3 === 0) {
        const indent = pick(['  ', '  ', '    ', ' ']);
        lines.push(pick(['client-transport-security:', 'peer-transport-security:', 'bogus-block:']), `${indent}${flatLine()}`, `${pick([indent, indent, indent, '   ', '  '])}${flatLine()}`);
      }
      if (k % 2 === 1) {
        // One odd element: a key, a value, a whole line, or a comment, somewhere.
        const at = k % lines.length;
        const odd = pick([0, 1, 2, 3]);
        if (odd === 0) lines[at] = `${pick(ODD_KEYS)}: x`;
        else if (odd === 1) lines[at] = `${pick(FLAT_KEYS)}: ${pick(ODD_VALUES)}`;
        else if (odd === 2) lines.splice(at, 0, pick(ODD_LINES));
        else lines.splice(at, 0, pick(['# c', '  # c', '']));
      }
      texts.push(lines.join(k % 10 === 9 ? '\r\n' : '\n') + pick(['', '\n']));
    }
    const before = flatYamlReads();
    for (const text of texts) assert.deepEqual(parseEtcdYaml(text, 'e.yaml'), parseEtcdYaml(text, 'e.yaml', { full: true }), JSON.stringify(text));
    // Both readers were exercised: the line reader took the generated shape and many mutations, the yaml package the rest.
    const flat = flatYamlReads() - before;
    assert.ok(flat > 500 && flat < texts.length - 500, `${flat} of ${texts.length} read line by line`);
  });
});

describe('parseEtcdArgs', () => {
  test('Go flag syntax: -flag value, --flag=value, booleans alone, a leading program path', () => {
    const src = parseEtcdArgs('/usr/bin/etcd -name m1 --peer-client-cert-auth --listen-peer-urls "https://10.0.0.1:2380" --enable-v2=false');
    assert.deepEqual(values(src), { name: 'm1', 'peer-client-cert-auth': 'true', 'listen-peer-urls': 'https://10.0.0.1:2380', 'enable-v2': 'false' });
    assert.deepEqual(src.problems, []);
  });

  test('accepts an argv array', () => {
    assert.deepEqual(values(parseEtcdArgs(['--cert-file', '/a b.pem'])), { 'cert-file': '/a b.pem' });
  });

  test('reports what etcd refuses: a flag without its value, a stray argument, unknown and removed flags', () => {
    assert.match(parseEtcdArgs('--cert-file').problems[0]?.message ?? '', /needs a value/);
    assert.match(parseEtcdArgs('--name m1 stray --debug').problems[0]?.message ?? '', /'stray' is not a flag/);
    const src = parseEtcdArgs('--peer-ca-file=/ca.pem --tls-min-version=TLS1.2');
    assert.deepEqual(src.ignored.map((i) => i.reason), ['removed', 'unknown']);
  });

  test('splitCommandLine honours quotes and continuations and expands nothing', () => {
    assert.deepEqual(splitCommandLine(`a 'b c' "d \\"e\\"" f\\\n g $HOME`), ['a', 'b c', 'd "e"', 'f', 'g', '$HOME']);
  });
});

describe('parseEtcdYaml', () => {
  test('maps the transport-security blocks onto flags and joins lists', () => {
    const src = parseEtcdYaml(
      [
        'name: m1',
        'cipher-suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]',
        'client-transport-security:',
        '  cert-file: /s.pem',
        '  client-cert-auth: true',
        'peer-transport-security:',
        '  trusted-ca-file: /ca.pem',
        'wal-dir:',
      ].join('\n'),
      'etcd.yaml',
    );
    assert.deepEqual(values(src), {
      name: 'm1',
      'cipher-suites': 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
      'cert-file': '/s.pem',
      'client-cert-auth': 'true',
      'peer-trusted-ca-file': '/ca.pem',
    });
    assert.equal(src.settings.find((s) => s.flag === 'cert-file')?.origin.name, 'client-transport-security.cert-file');
    assert.equal(src.settings.find((s) => s.flag === 'cert-file')?.origin.line, 4);
  });

  test('lists keys 3.4.23 ignores, with why', () => {
    const src = parseEtcdYaml('tls-min-version: TLS1.2\npeer-crl-file: /crl.pem\nclient-transport-security:\n  allowed-hostname: x\nbogus: 1\n', 'y');
    assert.deepEqual(
      src.ignored.map((i) => [i.origin.name, i.reason, Boolean(i.note)]),
      [['tls-min-version', 'not-in-yaml', true], ['peer-crl-file', 'not-in-yaml', true], ['client-transport-security.allowed-hostname', 'not-in-yaml', true], ['bogus', 'not-in-yaml', false]],
    );
    assert.deepEqual(src.settings, []);
  });

  test('a syntax error is a problem, not an exception', () => {
    assert.match(parseEtcdYaml('a: [1\n', 'y').problems[0]?.message ?? '', /not valid YAML/);
  });
});

describe('mergeEtcdConfig', () => {
  test('a flag overrides its variable, and the pair is a conflict', () => {
    const config = mergeEtcdConfig([parseEtcdEnvFile('ETCD_NAME=a\nETCD_DATA_DIR=/d\n', 'env'), parseEtcdArgs('--name b')]);
    assert.equal(config.settings.get('name')?.value, 'b');
    assert.equal(config.settings.get('data-dir')?.value, '/d');
    assert.deepEqual(config.conflicts.map((c) => [c.env.origin.name, c.flag.origin.name]), [['ETCD_NAME', '--name']]);
  });

  test('an empty variable is unset, but still conflicts with a flag (etcd checks presence)', () => {
    const config = mergeEtcdConfig([parseEtcdEnvFile('ETCD_CERT_FILE=\n', 'env')]);
    assert.equal(config.settings.has('cert-file'), false);
    assert.equal(mergeEtcdConfig([parseEtcdEnvFile('ETCD_CERT_FILE=\n', 'env'), parseEtcdArgs('--cert-file=/x')]).conflicts.length, 1);
  });

  test('a YAML file wins outright and shadows every flag and variable', () => {
    const config = mergeEtcdConfig([parseEtcdEnvFile('ETCD_NAME=a\nETCD_CONFIG_FILE=/etc/etcd.yaml\n', 'env'), parseEtcdYaml('name: y\n', '/etc/etcd.yaml')]);
    assert.equal(config.configFile, '/etc/etcd.yaml');
    assert.equal(config.settings.get('name')?.value, 'y');
    assert.deepEqual(config.ignored.map((i) => [i.origin.name, i.reason]), [['ETCD_NAME', 'shadowed-by-config-file']]);
    assert.deepEqual(config.files, ['env', '/etc/etcd.yaml']);
  });
});
