/**
 * `etcd-tls check` as a user runs it: a directory fresh from `gen` is clean, broken inputs exit 1 with
 * findings in text or JSON, and bad command lines are one-line usage errors.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { generateCluster } from '../../src/cluster/generate.js';
import { DEFAULT_SPEC_YAML } from '../../src/cluster/defaults.js';
import { parseSpec } from '../../src/cluster/spec.js';
import { help, run } from '../../src/cli/commands/check.js';
import type { CliIo } from '../../src/cli/io.js';
import { isEtcdTlsError } from '../../src/errors.js';
import type { Finding } from '../../src/doctor/findings.js';
import { etcdTls } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

function captureIo(): CliIo & { stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (t) => void out.push(t), err: (t) => void err.push(t), warn: (m) => void err.push(`${m}\n`), isTTY: false, stdout: () => out.join(''), stderr: () => err.join('') };
}

async function check(args: string[]): Promise<{ code: number; stdout: string }> {
  const io = captureIo();
  const code = await run(args, io);
  return { code, stdout: io.stdout() };
}

interface JsonReport {
  ok: boolean;
  summary: { errors: number; warnings: number; info: number };
  checked: { certificates: string[]; caFiles: string[]; configs: string[] };
  findings: Finding[];
}

let root: string;
let pki: string;
let specFile: string;

before(async () => {
  root = await makeTempDir('file', 'check-cli-');
  pki = path.join(root, 'pki');
  specFile = path.join(root, 'cluster.yaml');
  writeFileSync(specFile, DEFAULT_SPEC_YAML);
  await generateCluster(parseSpec(DEFAULT_SPEC_YAML, specFile), { out: pki });
});

describe('check on a directory written by gen', () => {
  test('finds no error and no warning, and says what it checked', async () => {
    const { code, stdout } = await check([pki]);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /^checked 8 certificates, 6 CA files, 6 etcd configurations\n/);
    assert.match(stdout, /\n0 errors, 0 warnings(, \d+ info)?\n$/);
    assert.doesNotMatch(stdout, /^ {2}(error|warning) /m);
  });

  test('--json: ok, every certificate listed, no error or warning', async () => {
    const { code, stdout } = await check([pki, '--json', '--spec', specFile]);
    assert.equal(code, 0);
    const body = JSON.parse(stdout) as JsonReport;
    assert.equal(body.ok, true);
    assert.deepEqual([body.summary.errors, body.summary.warnings], [0, 0], JSON.stringify(body.findings, null, 1));
    assert.ok(body.checked.certificates.some((c) => c.endsWith(path.join('nodes', 'member1', 'peer.pem'))));
    assert.equal(body.checked.certificates.length, 8);
  });

  test('regression: a finding repeated on every member is one text line naming how many files; --json lists each', async () => {
    const text = (await check([pki])).stdout;
    const lines = text.split('\n').filter((l) => /config-file-ignores-flags:/.test(l));
    assert.equal(lines.length, 1, text);
    assert.match(text, /^3 files: .*nodes\/\*\/etcd\.yaml$/m);
    assert.match(text, /, 3 info\n$/);
    const body = JSON.parse((await check([pki, '--json'])).stdout) as JsonReport;
    assert.equal(body.findings.filter((f) => f.code === 'config-file-ignores-flags').length, 3);
  });

  test('a single certificate with its key, role and CA', async () => {
    const node = path.join(pki, 'nodes', 'member2');
    const { code, stdout } = await check(['--cert', path.join(node, 'server.pem'), '--key', path.join(node, 'server-key.pem'), '--role', 'server', '--ca', path.join(pki, 'ca.pem')]);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /^checked 1 certificate, 1 CA file, 0 etcd configurations\n/);
  });
});

describe('check finds errors', () => {
  test('--now after expiry: exit 1, expired certificates named in text', async () => {
    const { code, stdout } = await check([pki, '--now', '2100-01-01T00:00:00Z']);
    assert.equal(code, 1);
    assert.match(stdout, /nodes\/member1\/server\.pem\n {2}error {4}cert-expired: CN=member1 expired at /);
    assert.match(stdout, /\n\d+ errors, \d+ warnings/);
  });

  test('--flags with an http client URL beside TLS files (JSON)', async () => {
    const node = path.join(pki, 'nodes', 'member1');
    const flags = `--listen-client-urls=http://127.0.0.11:2379 --advertise-client-urls http://127.0.0.11:2379 --cert-file=${node}/server.pem --key-file=${node}/server-key.pem`;
    const { code, stdout } = await check([`--flags=${flags}`, '--json']);
    assert.equal(code, 1);
    const body = JSON.parse(stdout) as JsonReport;
    assert.equal(body.ok, false);
    const hit = body.findings.find((f) => f.code === 'client-url-http-with-tls');
    assert.ok(hit, stdout);
    assert.equal(hit.subject, '--flags: --listen-client-urls');
    assert.deepEqual(hit.seeAlso, ['scheme-http-with-tls-files']);
  });

  test('the real binary exits 1 and prints the finding (a world-readable key)', async (t) => {
    const dir = await makeTempDir(t, 'check-bin-');
    await generateCluster(parseSpec(DEFAULT_SPEC_YAML, specFile), { out: dir });
    const key = path.join(dir, 'clients', 'admin', 'client-key.pem');
    chmodSync(key, 0o644);
    rmSync(path.join(dir, 'nodes', 'member3', 'peer.pem'));
    const r = await etcdTls(['check', dir]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /client-key\.pem\n {2}error {4}key-file-permissions: the private key is mode 0644/);
    assert.match(r.stdout, /etcd\.env: ETCD_PEER_CERT_FILE\n {2}error {4}file-missing: names \/etc\/etcd\/pki\/peer\.pem, which does not exist/);
  });
});

describe('check command line', () => {
  const usage = async (args: string[], code: string, pattern: RegExp): Promise<void> => {
    await assert.rejects(check(args), (e: unknown) => isEtcdTlsError(e) && e.code === code && pattern.test(e.message));
  };

  test('nothing to check', () => usage([], 'USAGE', /nothing to check/));
  test('a bad role', () => usage(['--cert', 'x.pem', '--role', 'etcd'], 'USAGE', /--role "etcd" must be server, peer or client/));
  test('--key without --cert', () => usage(['--key', 'k.pem'], 'USAGE', /--cert, which is missing/));
  test('a bad --now', () => usage([pki, '--now', 'tomorrow'], 'BAD_DURATION', /not an ISO 8601 time/));
  test('a missing DIR', () => usage([path.join(root, 'nope')], 'FILE_NOT_FOUND', /directory does not exist/));
  test('--spec without DIR', () => usage(['--spec', specFile, '--ca', 'ca.pem'], 'USAGE', /--spec needs the DIR/));

  test('--help has usage, options and an example', () => {
    const text = help();
    assert.match(text, /^Usage: etcd-tls check \[DIR\]/);
    assert.match(text, /--etcd-env FILE/);
    assert.match(text, /Examples:\n {2}etcd-tls check pki/);
  });
});
