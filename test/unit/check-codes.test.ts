/**
 * Every finding code of `etcd-tls check`: a fixture that triggers it (with the severity it must have)
 * and a near miss that must not. The base scenario is one healthy member; each case breaks one thing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { CHECK_CODES, type CheckCode } from '../../src/doctor/check/codes.js';
import { findEntry } from '../../src/doctor/explain/catalogue.js';
import type { Finding, Severity } from '../../src/doctor/findings.js';
import { ecKey, makeCert, makeCrl, NOW, rsaKey } from '../fixtures/check/build.js';
import { baseYaml, MEMBER_IP, runScenario, type Scenario } from '../fixtures/check/scenario.js';

type Mutate = (s: Scenario) => void;

interface Case {
  code: CheckCode;
  /** What breaks it; several variants may be listed, each with the severity it must produce. */
  trigger: { name: string; severity: Severity; mutate: Mutate }[];
  /** A near miss that must not produce the code (the healthy base is always checked too). */
  clean?: { name: string; mutate: Mutate };
}

const DAY = 86_400_000;
const days = (n: number): Date => new Date(NOW.getTime() + n * DAY);
const asConfig = (s: Scenario, extra: { etcdYaml?: string } = {}): void => {
  s.request = (dir) => ({ etcdEnv: [path.join(dir, 'etcd.env')], ...(extra.etcdYaml ? { etcdYaml: path.join(dir, extra.etcdYaml) } : {}) });
};
const yamlOnly = (yaml: string): Mutate => (s) => {
  s.files['etcd.yml'] = yaml;
  s.request = (dir) => ({ etcdYaml: path.join(dir, 'etcd.yml') });
};

const CASES: Case[] = [
  {
    code: 'file-missing',
    trigger: [{ name: 'ETCD_CERT_FILE names a missing file', severity: 'error', mutate: (s) => (s.env.ETCD_CERT_FILE = '{dir}/nope/server-new.pem') }],
  },
  {
    code: 'cert-invalid',
    trigger: [
      { name: 'server.pem is not PEM', severity: 'error', mutate: (s) => (s.files['server.pem'] = 'this is not a certificate\n') },
      { name: 'ca.pem holds a private key block', severity: 'error', mutate: (s) => (s.post = (b, f) => (f['ca.pem'] = b.ca.pem + b.ca.keyPem)) },
    ],
    clean: { name: 'text around the PEM block is ignored, as by openssl and Go', mutate: (s) => (s.post = (b, f) => (f['server.pem'] = `subject=CN=m1\n${b.server.pem}`)) },
  },
  {
    code: 'key-invalid',
    trigger: [{ name: 'an encrypted key', severity: 'error', mutate: (s) => (s.files['server-key.pem'] = '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n') }],
    clean: { name: 'a PKCS#8 key', mutate: (s) => (s.post = (b, f) => (f['server-key.pem'] = b.server.key.export({ format: 'pem', type: 'pkcs8' }) as string)) },
  },
  {
    code: 'file-resolved-locally',
    trigger: [{ name: 'installed path absent, same name beside the env file', severity: 'info', mutate: (s) => { s.env.ETCD_CERT_FILE = '/nonexistent-etcd-tls/pki/server.pem'; asConfig(s); } }],
    clean: { name: 'paths that exist as written', mutate: (s) => asConfig(s) },
  },
  {
    code: 'key-file-permissions',
    trigger: [
      { name: 'group-readable key', severity: 'warning', mutate: (s) => (s.modes['server-key.pem'] = 0o640) },
      { name: 'world-readable key', severity: 'error', mutate: (s) => (s.modes['peer-key.pem'] = 0o644) },
    ],
    clean: { name: 'mode 0400', mutate: (s) => (s.modes['server-key.pem'] = 0o400) },
  },
  {
    code: 'interrupted-write',
    trigger: [
      // PID 2^22+1 is above Linux's pid_max: no such run is alive.
      { name: 'a dead run\'s temp key file', severity: 'warning', mutate: (s) => (s.files['.etcd-tls-tmp.4194305.0a1b.server-key.pem'] = 'partial key') },
      { name: 'a dead run\'s batch journal', severity: 'error', mutate: (s) => (s.files['.etcd-tls-journal.4194305.0a1b'] = '.etcd-tls-tmp.4194305.0a1b.server.pem\tserver.pem\n') },
    ],
    clean: { name: 'a file of a similar name that is not ours', mutate: (s) => (s.files['.etcd-tls-tmpfile'] = 'x') },
  },
  {
    code: 'key-mismatch',
    trigger: [{ name: "the peer's key beside the server certificate", severity: 'error', mutate: (s) => (s.post = (b, f) => (f['server-key.pem'] = b.peer.keyPem)) }],
  },
  {
    code: 'cert-expired',
    trigger: [
      { name: 'server expired yesterday', severity: 'error', mutate: (s) => (s.server.notAfter = days(-1)) },
      { name: 'the CA expired', severity: 'error', mutate: (s) => { s.ca.notBefore = days(-400); s.ca.notAfter = days(-1); } },
    ],
    clean: { name: 'expires in 31 days', mutate: (s) => (s.server.notAfter = days(31)) },
  },
  {
    code: 'cert-not-yet-valid',
    trigger: [{ name: 'valid from tomorrow', severity: 'error', mutate: (s) => (s.peer.notBefore = days(1)) }],
    clean: { name: 'valid from a minute ago', mutate: (s) => (s.peer.notBefore = new Date(NOW.getTime() - 60_000)) },
  },
  {
    code: 'cert-expiring-soon',
    trigger: [{ name: 'expires in 29 days', severity: 'warning', mutate: (s) => (s.client.notAfter = days(29)) }],
    clean: { name: 'expires in 31 days', mutate: (s) => (s.client.notAfter = days(31)) },
  },
  {
    code: 'sha1-signature',
    trigger: [
      { name: 'a SHA-1 signed leaf', severity: 'error', mutate: (s) => (s.server.digest = 'sha1') },
      { name: 'a SHA-1 self-signed root', severity: 'warning', mutate: (s) => (s.ca.digest = 'sha1') },
    ],
  },
  {
    code: 'weak-rsa-key',
    trigger: [{ name: 'RSA 1024', severity: 'error', mutate: (s) => (s.client.key = rsaKey(1024)) }],
    clean: { name: 'RSA 2048', mutate: (s) => (s.client.key = rsaKey(2048)) },
  },
  {
    code: 'san-empty-entry',
    trigger: [{ name: 'hosts: [""] as cfssl writes it', severity: 'warning', mutate: (s) => (s.server.dns = ['', 'm1']) }],
  },
  {
    code: 'cert-cn-only',
    trigger: [{ name: 'server certificate without SANs', severity: 'error', mutate: (s) => { s.server.dns = []; s.server.ips = []; } }],
    clean: { name: 'client certificates need no SANs', mutate: (s) => (s.client.dns = []) },
  },
  {
    code: 'cert-not-signed-by-ca',
    trigger: [{ name: 'server issued by another CA', severity: 'error', mutate: (s) => (s.post = (_b, f) => (f['server.pem'] = makeCert({ cn: 'm1', issuer: makeCert({ cn: 'other CA', ca: true }), ips: [MEMBER_IP] }).pem)) }],
    clean: { name: 'the trusted file holds both CAs', mutate: (s) => (s.post = (b, f) => (f['ca.pem'] = makeCert({ cn: 'other CA', ca: true }).pem + b.ca.pem)) },
  },
  {
    code: 'cert-issuer-mismatch',
    trigger: [{ name: 'signed by the CA key under another issuer name', severity: 'error', mutate: (s) => (s.server.issuerCn = 'renamed CA') }],
  },
  {
    code: 'cert-aki-mismatch',
    trigger: [{ name: 'AKI of some other key', severity: 'warning', mutate: (s) => (s.peer.aki = Buffer.alloc(20, 7)) }],
  },
  {
    code: 'chain-not-checked',
    trigger: [{ name: 'a single certificate without --ca', severity: 'info', mutate: (s) => (s.request = (dir) => ({ certificates: [{ cert: path.join(dir, 'server.pem'), role: 'server' }] })) }],
    clean: { name: 'with --ca', mutate: (s) => (s.request = (dir) => ({ ca: path.join(dir, 'ca.pem'), certificates: [{ cert: path.join(dir, 'server.pem'), role: 'server' }] })) },
  },
  {
    code: 'ca-not-ca',
    trigger: [{ name: 'a leaf appended to the CA file', severity: 'error', mutate: (s) => (s.post = (b, f) => (f['ca.pem'] = b.ca.pem + b.client.pem)) }],
  },
  {
    code: 'ca-has-eku',
    trigger: [
      { name: 'CA restricted to serverAuth', severity: 'error', mutate: (s) => (s.ca.eku = ['serverAuth']) },
      { name: 'CA with both EKUs', severity: 'warning', mutate: (s) => (s.ca.eku = ['serverAuth', 'clientAuth']) },
    ],
    clean: { name: 'CA with anyExtendedKeyUsage', mutate: (s) => (s.ca.eku = ['any']) },
  },
  {
    code: 'ca-duplicate-subject',
    trigger: [{ name: 'an old and a new CA with one name', severity: 'warning', mutate: (s) => (s.post = (b, f) => (f['ca.pem'] = b.ca.pem + makeCert({ cn: 'check test CA', ca: true }).pem)) }],
    clean: { name: 'two CAs with distinct names', mutate: (s) => (s.post = (b, f) => (f['ca.pem'] = b.ca.pem + makeCert({ cn: 'next CA', ca: true }).pem)) },
  },
  {
    code: 'ca-rotation-in-progress',
    trigger: [
      {
        name: 'a next CA beside ca.pem (rotate-ca after phase 1)',
        severity: 'info',
        mutate: (s) => (s.post = (b, f) => (f['ca-next.pem'] = makeCert({ cn: 'check test CA', ca: true }).pem)),
      },
    ],
    clean: { name: 'a finished rotation: only ca.pem', mutate: (s) => (s.post = (b, f) => (f['ca.pem'] = b.ca.pem)) },
  },
  {
    code: 'server-cert-missing-serverauth',
    trigger: [{ name: 'clientAuth only', severity: 'error', mutate: (s) => (s.server.eku = ['clientAuth']) }],
    clean: { name: 'no EKU extension (any usage)', mutate: (s) => (s.server.eku = null) },
  },
  {
    code: 'server-cert-missing-clientauth',
    trigger: [
      { name: 'serverAuth only, under client-cert-auth', severity: 'error', mutate: (s) => (s.server.eku = ['serverAuth']) },
      {
        name: 'serverAuth only, no client certificates asked for',
        severity: 'warning',
        mutate: (s) => { s.server.eku = ['serverAuth']; s.env.ETCD_TRUSTED_CA_FILE = undefined; s.env.ETCD_CLIENT_CERT_AUTH = undefined; },
      },
    ],
    clean: { name: 'anyExtendedKeyUsage', mutate: (s) => (s.server.eku = ['any']) },
  },
  {
    code: 'peer-cert-missing-serverauth',
    trigger: [{ name: 'clientAuth only', severity: 'error', mutate: (s) => (s.peer.eku = ['clientAuth']) }],
  },
  {
    code: 'peer-cert-missing-clientauth',
    trigger: [{ name: 'serverAuth only', severity: 'error', mutate: (s) => (s.peer.eku = ['serverAuth']) }],
  },
  {
    code: 'client-cert-missing-clientauth',
    trigger: [{ name: 'serverAuth only', severity: 'error', mutate: (s) => (s.client.eku = ['serverAuth']) }],
    clean: { name: 'both EKUs', mutate: (s) => (s.client.eku = ['serverAuth', 'clientAuth']) },
  },
  {
    code: 'server-san-missing-host',
    trigger: [{ name: 'advertised IP not in SANs', severity: 'error', mutate: (s) => (s.server.ips = ['127.0.0.1']) }],
    clean: {
      name: 'a wildcard DNS SAN covers the advertised name',
      mutate: (s) => {
        s.server.dns = ['*.etcd.example.com'];
        s.env.ETCD_ADVERTISE_CLIENT_URLS = 'https://m1.etcd.example.com:2379';
        s.env.ETCD_LISTEN_CLIENT_URLS = 'https://0.0.0.0:2379';
      },
    },
  },
  {
    code: 'peer-san-missing-host',
    trigger: [{ name: 'advertised peer name not in SANs', severity: 'error', mutate: (s) => { s.env.ETCD_INITIAL_ADVERTISE_PEER_URLS = 'https://m1.example.com:2380'; s.env.ETCD_INITIAL_CLUSTER = 'm1=https://m1.example.com:2380'; } }],
  },
  {
    code: 'peer-san-missing-listen-ip',
    trigger: [
      { name: 'second listen IP, IP SANs only', severity: 'error', mutate: (s) => { s.peer.dns = []; s.env.ETCD_LISTEN_PEER_URLS = `https://${MEMBER_IP}:2380,https://10.9.9.9:2380`; } },
      { name: 'second listen IP, DNS SANs too', severity: 'warning', mutate: (s) => (s.env.ETCD_LISTEN_PEER_URLS = `https://${MEMBER_IP}:2380,https://10.9.9.9:2380`) },
    ],
    clean: { name: 'SAN verification skipped', mutate: (s) => { s.env.ETCD_LISTEN_PEER_URLS = `https://${MEMBER_IP}:2380,https://10.9.9.9:2380`; s.env.ETCD_EXPERIMENTAL_PEER_SKIP_CLIENT_SAN_VERIFICATION = 'true'; } },
  },
  {
    code: 'peer-san-dial-source',
    trigger: [
      { name: 'loopback members without IP SAN 127.0.0.1', severity: 'error', mutate: (s) => { s.peer.ips = [MEMBER_IP]; s.peer.dns = []; } },
      {
        name: 'listening on every address with IP SANs only',
        severity: 'warning',
        mutate: (s) => {
          s.peer.ips = ['10.0.0.5'];
          s.peer.dns = [];
          s.env.ETCD_LISTEN_PEER_URLS = 'https://0.0.0.0:2380';
          s.env.ETCD_INITIAL_ADVERTISE_PEER_URLS = 'https://10.0.0.5:2380';
          s.env.ETCD_INITIAL_CLUSTER = 'm1=https://10.0.0.5:2380';
        },
      },
    ],
  },
  {
    code: 'setting-invalid',
    trigger: [
      { name: 'URL without a port', severity: 'error', mutate: (s) => (s.env.ETCD_ADVERTISE_CLIENT_URLS = `https://${MEMBER_IP}`) },
      { name: 'URL with a path', severity: 'error', mutate: (s) => (s.env.ETCD_LISTEN_CLIENT_URLS = `https://${MEMBER_IP}:2379/`) },
      { name: 'not a boolean', severity: 'error', mutate: (s) => (s.env.ETCD_CLIENT_CERT_AUTH = 'yes') },
      { name: 'a line that is no assignment', severity: 'error', mutate: (s) => s.envExtra.push('this line is wrong') },
      { name: 'YAML syntax', severity: 'error', mutate: yamlOnly('name: [m1\n') },
    ],
    clean: { name: 'Go boolean spellings', mutate: (s) => (s.env.ETCD_CLIENT_CERT_AUTH = 'True') },
  },
  {
    code: 'env-flag-conflict',
    trigger: [
      { name: 'ETCD_NAME and --name in DAEMON_ARGS', severity: 'error', mutate: (s) => s.envExtra.push('DAEMON_ARGS="--name m1"') },
      { name: "--data-dir in DAEMON_ARGS meets Debian's unit Environment=", severity: 'error', mutate: (s) => { s.env.ETCD_DATA_DIR = undefined; s.envExtra.push('DAEMON_ARGS="--data-dir={dir}/data"'); } },
    ],
    clean: { name: 'a flag with no variable', mutate: (s) => s.envExtra.push('DAEMON_ARGS="--debug"') },
  },
  {
    code: 'unknown-flag',
    trigger: [{ name: 'a 3.5 flag', severity: 'error', mutate: (s) => s.envExtra.push('DAEMON_ARGS="--client-cert-file=/x.pem"') }],
    clean: { name: 'a legacy flag 3.4 accepts and ignores', mutate: (s) => s.envExtra.push('DAEMON_ARGS="--peer-heartbeat-interval=100"') },
  },
  {
    code: 'unknown-env-variable',
    trigger: [{ name: 'ETCD_TLS_MIN_VERSION (3.4.25+)', severity: 'warning', mutate: (s) => (s.env.ETCD_TLS_MIN_VERSION = 'TLS1.2') }],
    clean: { name: 'ETCDCTL_API is not an etcd variable', mutate: (s) => (s.env.ETCDCTL_API = '3') },
  },
  {
    code: 'removed-ca-file',
    trigger: [
      { name: 'ETCD_CA_FILE beside ETCD_TRUSTED_CA_FILE', severity: 'warning', mutate: (s) => (s.env.ETCD_CA_FILE = '{dir}/ca.pem') },
      { name: 'ETCD_PEER_CA_FILE instead of ETCD_PEER_TRUSTED_CA_FILE', severity: 'error', mutate: (s) => { s.env.ETCD_PEER_CA_FILE = '{dir}/ca.pem'; s.env.ETCD_PEER_TRUSTED_CA_FILE = undefined; } },
      { name: '--ca-file', severity: 'error', mutate: (s) => s.envExtra.push('DAEMON_ARGS="--ca-file={dir}/ca.pem"') },
    ],
  },
  {
    code: 'yaml-key-ignored',
    trigger: [
      { name: 'tls-min-version (3.4.25+)', severity: 'warning', mutate: yamlOnly(baseYaml(['tls-min-version: TLS1.3'])) },
      { name: 'peer-crl-file (flag only)', severity: 'error', mutate: yamlOnly(baseYaml(['peer-crl-file: /etc/etcd/crl.pem'])) },
      { name: 'allowed-hostname under peer-transport-security', severity: 'error', mutate: yamlOnly(baseYaml().replace('peer-transport-security:\n', 'peer-transport-security:\n  allowed-hostname: peer.example\n')) },
      { name: 'a typo', severity: 'warning', mutate: yamlOnly(baseYaml(['snapshot-counts: 10000'])) },
    ],
    clean: { name: 'a 3.4.23 key', mutate: yamlOnly(baseYaml(['snapshot-count: 10000'])) },
  },
  {
    code: 'config-file-ignores-flags',
    trigger: [
      { name: 'env file and config file together', severity: 'warning', mutate: (s) => { s.files['etcd.yml'] = baseYaml(); asConfig(s, { etcdYaml: 'etcd.yml' }); } },
      { name: 'config file alone', severity: 'info', mutate: yamlOnly(baseYaml()) },
      { name: 'ETCD_CONFIG_FILE in the env file', severity: 'warning', mutate: (s) => { s.files['etcd.yml'] = baseYaml(); s.env.ETCD_CONFIG_FILE = '{dir}/etcd.yml'; asConfig(s); } },
    ],
  },
  {
    code: 'yaml-grpc-gateway-off',
    trigger: [{ name: 'no enable-grpc-gateway', severity: 'warning', mutate: yamlOnly(baseYaml([], false)) }],
    clean: { name: 'enable-grpc-gateway: true', mutate: yamlOnly(baseYaml()) },
  },
  {
    code: 'client-url-http-with-tls',
    trigger: [
      { name: 'http listen URL', severity: 'error', mutate: (s) => (s.env.ETCD_LISTEN_CLIENT_URLS = `http://${MEMBER_IP}:2379`) },
      { name: 'no listen URL: the default is http', severity: 'error', mutate: (s) => (s.env.ETCD_LISTEN_CLIENT_URLS = undefined) },
    ],
  },
  {
    code: 'peer-url-http-with-tls',
    trigger: [{ name: 'http advertise peer URL', severity: 'error', mutate: (s) => (s.env.ETCD_INITIAL_ADVERTISE_PEER_URLS = `http://${MEMBER_IP}:2380`) }],
    clean: { name: 'http peer URLs without peer TLS files', mutate: (s) => {
      for (const k of ['ETCD_PEER_CERT_FILE', 'ETCD_PEER_KEY_FILE', 'ETCD_PEER_TRUSTED_CA_FILE', 'ETCD_PEER_CLIENT_CERT_AUTH']) s.env[k] = undefined;
      s.env.ETCD_LISTEN_PEER_URLS = s.env.ETCD_INITIAL_ADVERTISE_PEER_URLS = `http://${MEMBER_IP}:2380`;
      s.env.ETCD_INITIAL_CLUSTER = `m1=http://${MEMBER_IP}:2380`;
    } },
  },
  {
    code: 'client-https-without-cert',
    trigger: [{ name: 'no key file', severity: 'error', mutate: (s) => (s.env.ETCD_KEY_FILE = undefined) }],
    clean: { name: 'auto-tls instead of files', mutate: (s) => { s.env.ETCD_KEY_FILE = s.env.ETCD_CERT_FILE = undefined; s.env.ETCD_AUTO_TLS = 'true'; } },
  },
  {
    code: 'peer-https-without-cert',
    trigger: [{ name: 'no peer certificate', severity: 'error', mutate: (s) => (s.env.ETCD_PEER_CERT_FILE = undefined) }],
  },
  {
    code: 'client-auth-disabled',
    trigger: [{ name: 'no trusted CA, no client-cert-auth', severity: 'error', mutate: (s) => { s.env.ETCD_TRUSTED_CA_FILE = undefined; s.env.ETCD_CLIENT_CERT_AUTH = 'false'; } }],
    clean: { name: 'trusted CA alone already demands certificates', mutate: (s) => (s.env.ETCD_CLIENT_CERT_AUTH = undefined) },
  },
  {
    code: 'peer-auth-disabled',
    trigger: [{ name: 'no peer CA, no peer-client-cert-auth', severity: 'error', mutate: (s) => { s.env.ETCD_PEER_TRUSTED_CA_FILE = undefined; s.env.ETCD_PEER_CLIENT_CERT_AUTH = undefined; } }],
  },
  {
    code: 'client-cert-auth-without-ca',
    trigger: [{ name: 'client-cert-auth, no trusted CA', severity: 'error', mutate: (s) => (s.env.ETCD_TRUSTED_CA_FILE = undefined) }],
  },
  {
    code: 'peer-cert-auth-without-ca',
    trigger: [{ name: 'peer-client-cert-auth, no peer CA', severity: 'error', mutate: (s) => (s.env.ETCD_PEER_TRUSTED_CA_FILE = undefined) }],
  },
  {
    code: 'client-ca-without-cert-auth',
    trigger: [{ name: 'trusted CA without client-cert-auth', severity: 'warning', mutate: (s) => (s.env.ETCD_CLIENT_CERT_AUTH = 'false') }],
  },
  {
    code: 'peer-ca-without-cert-auth',
    trigger: [{ name: 'peer CA without peer-client-cert-auth', severity: 'warning', mutate: (s) => (s.env.ETCD_PEER_CLIENT_CERT_AUTH = undefined) }],
  },
  {
    code: 'auto-tls-enabled',
    trigger: [{ name: 'peer auto-tls', severity: 'warning', mutate: (s) => (s.env.ETCD_PEER_AUTO_TLS = 'true') }],
    clean: { name: 'auto-tls=false', mutate: (s) => (s.env.ETCD_AUTO_TLS = 'false') },
  },
  {
    code: 'client-advertise-not-listened',
    trigger: [
      { name: 'advertised port not listened', severity: 'error', mutate: (s) => (s.env.ETCD_ADVERTISE_CLIENT_URLS = `https://${MEMBER_IP}:2479`) },
      { name: 'advertised IP not listened', severity: 'error', mutate: (s) => { s.env.ETCD_ADVERTISE_CLIENT_URLS = 'https://127.0.0.22:2379'; s.server.ips = ['127.0.0.22']; } },
    ],
    clean: { name: 'listening on 0.0.0.0', mutate: (s) => (s.env.ETCD_LISTEN_CLIENT_URLS = 'https://0.0.0.0:2379') },
  },
  {
    code: 'peer-advertise-not-listened',
    trigger: [{ name: 'advertised peer port not listened', severity: 'error', mutate: (s) => { s.env.ETCD_INITIAL_ADVERTISE_PEER_URLS = `https://${MEMBER_IP}:2390`; s.env.ETCD_INITIAL_CLUSTER = `m1=https://${MEMBER_IP}:2390`; } }],
    clean: { name: 'listening on [::]', mutate: (s) => (s.env.ETCD_LISTEN_PEER_URLS = 'https://[::]:2380') },
  },
  {
    code: 'initial-cluster-http',
    trigger: [
      { name: 'another member still http', severity: 'error', mutate: (s) => (s.env.ETCD_INITIAL_CLUSTER = `m1=https://${MEMBER_IP}:2380,m2=http://127.0.0.22:2380`) },
    ],
  },
  {
    code: 'initial-cluster-mismatch',
    trigger: [
      { name: "this member's entry differs", severity: 'error', mutate: (s) => (s.env.ETCD_INITIAL_CLUSTER = `m1=https://${MEMBER_IP}:2390`) },
      { name: 'no entry for this member', severity: 'error', mutate: (s) => (s.env.ETCD_NAME = 'm9') },
    ],
  },
  {
    code: 'cipher-suite-unknown',
    trigger: [{ name: 'an OpenSSL name', severity: 'error', mutate: (s) => (s.env.ETCD_CIPHER_SUITES = 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,ECDHE-ECDSA-AES128-GCM-SHA256') }],
    clean: { name: "etcd's CHACHA20 alias", mutate: (s) => (s.env.ETCD_CIPHER_SUITES = 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305') },
  },
  {
    code: 'cipher-suites-missing-aes128gcm',
    trigger: [
      { name: 'RSA suite with ECDSA certificates', severity: 'error', mutate: (s) => (s.env.ETCD_CIPHER_SUITES = 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256') },
      { name: 'no AES_128_GCM suite at all', severity: 'error', mutate: (s) => (s.env.ETCD_CIPHER_SUITES = 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384') },
    ],
    clean: { name: 'the ECDSA AES_128_GCM suite', mutate: (s) => (s.env.ETCD_CIPHER_SUITES = 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256') },
  },
  {
    code: 'crl-invalid',
    trigger: [{ name: 'garbage CRL', severity: 'error', mutate: (s) => { s.files['crl.pem'] = '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n'; s.env.ETCD_CLIENT_CRL_FILE = '{dir}/crl.pem'; } }],
    clean: { name: 'a CRL from the CA', mutate: (s) => { s.post = (b, f) => (f['crl.pem'] = makeCrl(b.ca)); s.env.ETCD_CLIENT_CRL_FILE = '{dir}/crl.pem'; } },
  },
  {
    code: 'crl-not-signed-by-ca',
    trigger: [{ name: 'a CRL from another CA', severity: 'error', mutate: (s) => { s.files['crl.pem'] = makeCrl(makeCert({ cn: 'other CA', ca: true, key: ecKey() })); s.env.ETCD_PEER_CRL_FILE = '{dir}/crl.pem'; } }],
  },
  {
    code: 'crl-stale',
    trigger: [
      { name: 'nextUpdate passed', severity: 'warning', mutate: (s) => { s.post = (b, f) => (f['crl.pem'] = makeCrl(b.ca, [1], new Date(NOW.getTime() - 8 * 86_400_000))); s.env.ETCD_CLIENT_CRL_FILE = '{dir}/crl.pem'; } },
      { name: 'past half its validity', severity: 'info', mutate: (s) => { s.post = (b, f) => (f['crl.pem'] = makeCrl(b.ca, [1], new Date(NOW.getTime() - 4 * 86_400_000))); s.env.ETCD_CLIENT_CRL_FILE = '{dir}/crl.pem'; } },
    ],
    clean: { name: 'a fresh CRL', mutate: (s) => { s.post = (b, f) => (f['crl.pem'] = makeCrl(b.ca)); s.env.ETCD_CLIENT_CRL_FILE = '{dir}/crl.pem'; } },
  },
  {
    code: 'crl-bypassed-by-http-listener',
    trigger: [
      { name: 'a client CRL and listen-client-http-urls', severity: 'warning', mutate: (s) => { s.post = (b, f) => (f['crl.pem'] = makeCrl(b.ca)); s.env.ETCD_CLIENT_CRL_FILE = '{dir}/crl.pem'; s.env.ETCD_LISTEN_CLIENT_HTTP_URLS = `http://${MEMBER_IP}:2381`; } },
    ],
    clean: { name: 'a client CRL without a separate HTTP listener', mutate: (s) => { s.post = (b, f) => (f['crl.pem'] = makeCrl(b.ca)); s.env.ETCD_CLIENT_CRL_FILE = '{dir}/crl.pem'; } },
  },
];

const describeFindings = (fs: readonly Finding[]): string => fs.map((f) => `${f.severity} ${f.code} [${f.subject}] ${f.message}`).join('\n');

describe('check: the healthy base member', () => {
  test('yields no finding at all', async (t) => {
    const report = await runScenario(t);
    assert.deepEqual(report.findings, [], describeFindings(report.findings));
    assert.equal(report.checked.certificates.length, 3);
    assert.equal(report.checked.configs.length, 1);
  });
});

describe('check: every finding code', () => {
  test('has a case in this table, and every case names a registered code', () => {
    const covered = new Set(CASES.map((c) => c.code));
    assert.deepEqual(Object.keys(CHECK_CODES).filter((c) => !covered.has(c as CheckCode)), []);
  });

  test('refers only to catalogue entries that exist', () => {
    for (const [code, info] of Object.entries(CHECK_CODES))
      for (const id of (info as { seeAlso?: readonly string[] }).seeAlso ?? []) assert.ok(findEntry(id), `${code} refers to missing catalogue entry ${id}`);
  });

  for (const c of CASES) {
    describe(c.code, () => {
      for (const trig of c.trigger) {
        test(`triggered: ${trig.name} (${trig.severity})`, async (t) => {
          const report = await runScenario(t, trig.mutate);
          const hits = report.findings.filter((f) => f.code === c.code);
          assert.ok(hits.length > 0, `expected ${c.code}; got:\n${describeFindings(report.findings)}`);
          assert.ok(hits.some((f) => f.severity === trig.severity), `expected severity ${trig.severity}:\n${describeFindings(hits)}`);
          for (const f of hits) {
            assert.doesNotMatch(f.message, /\n/, 'messages are one line');
            assert.ok(f.fix.length > 0);
          }
        });
      }
      if (c.clean) {
        const clean = c.clean;
        test(`not triggered: ${clean.name}`, async (t) => {
          const report = await runScenario(t, clean.mutate);
          const hits = report.findings.filter((f) => f.code === c.code);
          assert.deepEqual(hits, [], describeFindings(hits));
        });
      }
    });
  }
});
