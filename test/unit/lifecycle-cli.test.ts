// Day-2 commands through the CLI, offline: status grading, --json, --prometheus and each exit code on a
// DIR whose certificates expire at chosen times (--now); bad input is one line with a code and writes
// nothing; the encrypted CA key with each passphrase source, including the prompt on a pseudo-terminal.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CLI_PATH, etcdTls, findBinary, requireBinary, run, type RunResult } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

const SPEC = `cluster: t
ca: { cn: t etcd CA }
members:
  - { name: m1, ips: [127.0.0.131], validity: 720h }
  - { name: m2, ips: [127.0.0.132] }
clients:
  - { name: admin, cn: root, validity: 240h }
`;
const DAY = 86_400_000;

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = `${createHash('sha256').update(readFileSync(p)).digest('hex')} ${statSync(p).mode.toString(8)}`;
    }
  };
  walk(dir);
  return out;
}

const oneLine = (r: RunResult, code: string): void => {
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^etcd-tls: ${code}: [^\\n]+\\n$`));
};

describe('status', () => {
  let dir = '';
  let genAt = new Date();
  const cli = (...args: string[]): Promise<RunResult> => etcdTls(args, { cwd: dir });
  before(async () => {
    dir = await makeTempDir('file', 'status-');
    writeFileSync(path.join(dir, 'spec.yaml'), SPEC);
    genAt = new Date();
    const r = await cli('gen', 'spec.yaml', '--out', 'pki');
    assert.equal(r.code, 0, r.stderr);
  });
  const at = (days: number): string => new Date(genAt.getTime() + days * DAY).toISOString();

  test('all fine: exit 0, every certificate and the CRL in the table', async () => {
    const r = await cli('status', 'pki', '--now', at(0), '--warn', '5d', '--critical', '2d');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const name of ['ca', 'crl', 'm1/server', 'm1/peer', 'm2/server', 'm2/peer', 'admin']) assert.match(r.stdout, new RegExp(`^${name}\\s`, 'm'));
    assert.match(r.stdout, /^admin\s+client\s+ok\s+CN=root\s+\S+ \S+\s+9d 23h/m);
    assert.match(r.stdout, /^OK: 0 critical, 0 warning\(s\)/m);
  });

  test('within --warn: exit 3; within --critical or expired: exit 4; distinct from bad input (1)', async () => {
    const warn = await cli('status', 'pki', '--now', at(0), '--warn', '11d', '--critical', '2d');
    assert.equal(warn.code, 3, warn.stdout);
    assert.match(warn.stdout, /^admin\s+client\s+WARN\s.*expires within the warning threshold/m);
    const crit = await cli('status', 'pki', '--now', at(6), '--critical', '5d');
    assert.equal(crit.code, 4, crit.stdout);
    assert.match(crit.stdout, /^admin\s+client\s+CRITICAL\s.*expires within the critical threshold/m);
    const expired = await cli('status', 'pki', '--now', at(31), '--json');
    assert.equal(expired.code, 4);
    const j = JSON.parse(expired.stdout) as { status: string; exitCode: number; certificates: { name: string; status: string; residualSeconds: number; problems: string[] }[]; crls: { status: string; problems: string[] }[] };
    assert.equal(j.status, 'critical');
    assert.equal(j.exitCode, 4);
    const m1 = j.certificates.find((c) => c.name === 'm1/server');
    assert.equal(m1?.status, 'critical');
    assert.ok((m1?.residualSeconds ?? 0) < 0);
    assert.deepEqual(m1?.problems, ['expired']);
    assert.equal(j.certificates.find((c) => c.name === 'm2/server')?.status, 'ok');
    assert.match(j.crls[0]?.problems.join() ?? '', /stale/);
    oneLine(await cli('status', 'pki', '--warn', 'soon'), 'BAD_DURATION');
    oneLine(await cli('status', 'nowhere'), 'FILE_NOT_FOUND');
  });

  test('MISSING for a file the layout expects; --json has the documented keys', async (t) => {
    const copy = path.join(await makeTempDir(t, 'status-missing-'), 'pki');
    cpSync(path.join(dir, 'pki'), copy, { recursive: true });
    const { rmSync } = await import('node:fs');
    rmSync(path.join(copy, 'nodes', 'm2', 'peer-key.pem'));
    rmSync(path.join(copy, 'clients', 'admin', 'client.pem'));
    const r = await etcdTls(['status', copy, '--now', at(0), '--json']);
    assert.equal(r.code, 4);
    const j = JSON.parse(r.stdout) as Record<string, unknown> & { certificates: Record<string, unknown>[]; other: { name: string; missing: boolean }[] };
    assert.deepEqual(Object.keys(j), ['kind', 'version', 'dir', 'now', 'warnSeconds', 'criticalSeconds', 'status', 'exitCode', 'certificateAuthorities', 'certificates', 'crls', 'other', 'rotation']);
    const admin = j.certificates.find((c) => c.name === 'admin');
    assert.equal(admin?.missing, true);
    assert.deepEqual(Object.keys(j.certificates[0] ?? {}), ['name', 'role', 'file', 'missing', 'status', 'problems', 'subject', 'issuer', 'serial', 'keyType', 'notBefore', 'expirationDate', 'residualSeconds', 'residualTime', 'caName', 'revoked']);
    assert.deepEqual(j.other.map((o) => [o.name, o.missing]), [['m2/peer key', true]]);
    const table = await etcdTls(['status', copy, '--now', at(0)]);
    assert.match(table.stdout, /^admin\s+client\s+MISSING\s.*missing; clients\/admin\/client\.pem/m);
  });

  test('--prometheus is valid text exposition (promtool check metrics when installed, else a parser)', async () => {
    const r = await cli('status', 'pki', '--now', at(25), '--prometheus');
    assert.equal(r.code, 4);
    const lines = r.stdout.trimEnd().split('\n');
    const families = new Set<string>();
    for (const line of lines) {
      if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) {
        families.add(line.split(' ')[2] as string);
        continue;
      }
      assert.match(line, /^[a-z_]+\{([a-z_]+="(?:[^"\\\n]|\\[\\"n])*",?)+\} -?\d+$/, line);
    }
    for (const f of ['etcd_tls_certificate_not_after_seconds', 'etcd_tls_certificate_missing', 'etcd_tls_certificate_revoked', 'etcd_tls_crl_next_update_seconds', 'etcd_tls_status'])
      assert.ok(families.has(f), f);
    assert.match(r.stdout, /^etcd_tls_status\{dir="[^"]+"\} 2$/m);
    const notAfter = Number(/^etcd_tls_certificate_not_after_seconds\{[^}]*name="admin"[^}]*\} (\d+)$/m.exec(r.stdout)?.[1]);
    const cert = readFileSync(path.join(dir, 'pki', 'clients', 'admin', 'client.pem'), 'utf8');
    const { X509Certificate } = await import('node:crypto');
    assert.equal(notAfter, new Date(new X509Certificate(cert).validTo).getTime() / 1000);
    if (findBinary('promtool')) {
      const p = await run('promtool', ['check', 'metrics'], { stdin: r.stdout });
      assert.equal(p.code, 0, p.stdout + p.stderr);
    }
  });
});

describe('bad input writes nothing', () => {
  test('unknown names, no CA key, a key of another CA, a corrupt record, a bad serial, a bad duration', async (t) => {
    const dir = await makeTempDir(t, 'bad-');
    writeFileSync(path.join(dir, 'spec.yaml'), SPEC);
    assert.equal((await etcdTls(['gen', 'spec.yaml', '--out', 'pki'], { cwd: dir })).code, 0);
    const cli = (...args: string[]): Promise<RunResult> => etcdTls(args, { cwd: dir });
    const before = snapshot(path.join(dir, 'pki'));
    const same = (): void => assert.deepEqual(snapshot(path.join(dir, 'pki')), before);
    oneLine(await cli('revoke', 'pki', '--client', 'nobody'), 'UNKNOWN_NAME');
    oneLine(await cli('renew', 'pki', '--member', 'm9'), 'UNKNOWN_NAME');
    oneLine(await cli('revoke', 'pki', '--serial', 'xyz'), 'BAD_FIELD');
    oneLine(await cli('revoke', 'pki', '--client', 'admin', '--reason', 'bored'), 'BAD_FIELD');
    oneLine(await cli('renew', 'pki', '--within', '3 weeks'), 'BAD_DURATION');
    oneLine(await cli('crl', 'pki', '--next-update', '0h'), 'BAD_DURATION');
    same();
    // A CA key that does not match the CA.
    const other = path.join(dir, 'other');
    writeFileSync(path.join(dir, 'o.yaml'), SPEC.replace('t etcd CA', 'other CA'));
    assert.equal((await cli('gen', 'o.yaml', '--out', 'other')).code, 0);
    const { copyFileSync, renameSync, rmSync } = await import('node:fs');
    renameSync(path.join(dir, 'pki', 'ca-key.pem'), path.join(dir, 'ca-key.saved'));
    copyFileSync(path.join(other, 'ca-key.pem'), path.join(dir, 'pki', 'ca-key.pem'));
    oneLine(await cli('revoke', 'pki', '--client', 'admin'), 'KEY_MISMATCH');
    oneLine(await cli('renew', 'pki', '--all'), 'KEY_MISMATCH');
    rmSync(path.join(dir, 'pki', 'ca-key.pem'));
    oneLine(await cli('crl', 'pki'), 'CA_KEY_MISSING');
    renameSync(path.join(dir, 'ca-key.saved'), path.join(dir, 'pki', 'ca-key.pem'));
    same();
    // A corrupt revocation record: no CRL is signed from it.
    writeFileSync(path.join(dir, 'pki', 'revoked.json'), '{"format":1,"crlNumber":"2","revoked":[{"serial":"zz"}]}');
    const corrupt = await cli('revoke', 'pki', '--client', 'admin');
    oneLine(corrupt, 'BAD_REVOCATION_RECORD');
    assert.match(corrupt.stderr, /revoked\.json: revoked\[0\]\.serial must be lower-case hex; nothing was written/);
    assert.equal(snapshot(path.join(dir, 'pki'))['crl.der'], before['crl.der']);
  });

  test('check flags a tampered CRL and one signed by another CA', async (t) => {
    const dir = await makeTempDir(t, 'crl-check-');
    writeFileSync(path.join(dir, 'spec.yaml'), SPEC);
    writeFileSync(path.join(dir, 'o.yaml'), SPEC.replace('t etcd CA', 'other CA'));
    assert.equal((await etcdTls(['gen', 'spec.yaml', '--out', 'pki'], { cwd: dir })).code, 0);
    assert.equal((await etcdTls(['gen', 'o.yaml', '--out', 'other'], { cwd: dir })).code, 0);
    const crl = path.join(dir, 'pki', 'nodes', 'm1', 'crl.der');
    cpSync(path.join(dir, 'other', 'crl.der'), crl);
    const foreign = await etcdTls(['check', 'pki'], { cwd: dir });
    assert.notEqual(foreign.code, 0);
    assert.match(foreign.stdout + foreign.stderr, /not signed by the trusted CA/);
    const bytes = readFileSync(path.join(dir, 'pki', 'crl.der'));
    bytes[bytes.length - 5] ^= 0xff;
    writeFileSync(crl, bytes);
    const tampered = await etcdTls(['check', 'pki'], { cwd: dir });
    assert.notEqual(tampered.code, 0);
    assert.match(tampered.stdout + tampered.stderr, /crl/i);
  });
});

describe('encrypted CA key', () => {
  test('gen --encrypt-ca-key: openssl reads it; every signing command works with each source; a wrong one writes nothing', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const dir = await makeTempDir(t, 'enc-');
    writeFileSync(path.join(dir, 'spec.yaml'), SPEC);
    writeFileSync(path.join(dir, 'pass'), 'correct horse\n');
    writeFileSync(path.join(dir, 'wrong'), 'battery staple\n');
    const env = { ETCD_TLS_CA_PASSPHRASE: 'correct horse' };
    const gen = await etcdTls(['gen', 'spec.yaml', '--out', 'pki', '--encrypt-ca-key'], { cwd: dir, env });
    assert.equal(gen.code, 0, gen.stderr);
    const key = readFileSync(path.join(dir, 'pki', 'ca-key.pem'), 'utf8');
    assert.match(key, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.equal((statSync(path.join(dir, 'pki', 'ca-key.pem')).mode & 0o777).toString(8), '600');
    const o = await run('openssl', ['pkey', '-in', path.join(dir, 'pki', 'ca-key.pem'), '-passin', `file:${path.join(dir, 'pass')}`, '-noout', '-text']);
    assert.equal(o.code, 0, o.stderr);
    assert.match((await run('openssl', ['asn1parse', '-in', path.join(dir, 'pki', 'ca-key.pem')])).stdout, /PBKDF2[\s\S]*aes-256-cbc/);

    const before = snapshot(path.join(dir, 'pki'));
    oneLine(await etcdTls(['renew', 'pki', '--all'], { cwd: dir }), 'CA_PASSPHRASE_MISSING');
    oneLine(await etcdTls(['renew', 'pki', '--all', '--ca-passphrase-file', 'wrong'], { cwd: dir }), 'CA_PASSPHRASE_WRONG');
    oneLine(await etcdTls(['revoke', 'pki', '--client', 'admin'], { cwd: dir, env: { ETCD_TLS_CA_PASSPHRASE: 'nope' } }), 'CA_PASSPHRASE_WRONG');
    assert.deepEqual(snapshot(path.join(dir, 'pki')), before);

    const ok = async (args: string[], opts: { env?: Record<string, string> } = {}): Promise<RunResult> => {
      const r = await etcdTls(args, { cwd: dir, ...opts });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r;
    };
    await ok(['renew', 'pki', '--member', 'm1', '--ca-passphrase-file', 'pass']);
    await ok(['renew', 'pki', '--client', 'admin'], { env });
    await ok(['revoke', 'pki', '--client', 'admin', '--ca-passphrase-file', 'pass']);
    await ok(['crl', 'pki'], { env });
    writeFileSync(path.join(dir, 'spec.yaml'), SPEC.replace('validity: 240h', 'validity: 480h'));
    await ok(['gen', 'spec.yaml', '--out', 'pki', '--ca-passphrase-file', 'pass']);
    writeFileSync(path.join(dir, 'leaf.json'), '{"CN":"x","hosts":["x"],"key":{"algo":"ecdsa","size":256}}');
    const gc = await ok(['gencert', '-ca', 'pki/ca.pem', '-ca-key', 'pki/ca-key.pem', '-ca-passphrase-file', 'pass', 'leaf.json']);
    writeFileSync(path.join(dir, 'leaf.csr'), (JSON.parse(gc.stdout) as { csr: string }).csr);
    await ok(['sign', '-ca', 'pki/ca.pem', '-ca-key', 'pki/ca-key.pem', 'leaf.csr'], { env });
    const initca = await ok(['gencert', '-initca', '-encrypt', 'leaf.json'], { env });
    assert.match((JSON.parse(initca.stdout) as { key: string }).key, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);

    await ok(['ca', 'decrypt', 'pki'], { env });
    assert.match(readFileSync(path.join(dir, 'pki', 'ca-key.pem'), 'utf8'), /^-----BEGIN EC PRIVATE KEY-----/);
    await ok(['ca', 'encrypt', 'pki', '--ca-passphrase-file', 'pass']);
    assert.match(readFileSync(path.join(dir, 'pki', 'ca-key.pem'), 'utf8'), /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
  });

  test('the passphrase prompt on a pseudo-terminal: no echo, and the key decrypts', async (t) => {
    if (!requireBinary(t, 'python3')) return;
    const dir = await makeTempDir(t, 'pty-');
    writeFileSync(path.join(dir, 'spec.yaml'), SPEC);
    assert.equal((await etcdTls(['gen', 'spec.yaml', '--out', 'pki', '--encrypt-ca-key'], { cwd: dir, env: { ETCD_TLS_CA_PASSPHRASE: 'pty secret' } })).code, 0);
    // python3's pty module runs the CLI on a terminal, waits for the prompt, then types the passphrase.
    const script = [
      'import os, pty, sys',
      'pid, fd = pty.fork()',
      'if pid == 0:',
      `    os.execvp(sys.executable if False else "${process.execPath}", ["node", "${CLI_PATH}", "crl", "pki"])`,
      'out = b""',
      'while b"passphrase for" not in out:',
      '    out += os.read(fd, 1024)',
      'os.write(fd, b"pty secret\\r")',
      'while True:',
      '    try:',
      '        chunk = os.read(fd, 1024)',
      '    except OSError:',
      '        break',
      '    if not chunk: break',
      '    out += chunk',
      '_, status = os.waitpid(pid, 0)',
      'sys.stdout.write(out.decode())',
      'sys.exit(os.waitstatus_to_exitcode(status))',
    ].join('\n');
    const r = await run('python3', ['-c', script], { cwd: dir, timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /passphrase for .*ca-key\.pem: /);
    assert.match(r.stdout, /signed CRL #2/);
    assert.doesNotMatch(r.stdout, /pty secret/, 'the passphrase was echoed');
  });
});

describe('gen renews through the renew path', () => {
  test('a certificate inside its renewal window is renewed by gen with its own key; renew --rekey gives a new key', async (t) => {
    const dir = await makeTempDir(t, 'gen-renew-');
    writeFileSync(path.join(dir, 'spec.yaml'), SPEC);
    const cli = (...args: string[]): Promise<RunResult> => etcdTls(args, { cwd: dir });
    assert.equal((await cli('gen', 'spec.yaml', '--out', 'pki')).code, 0);
    const cert = path.join(dir, 'pki', 'nodes', 'm1', 'server.pem');
    const key = path.join(dir, 'pki', 'nodes', 'm1', 'server-key.pem');
    const before = { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
    // 21 days into m1's 30-day (720h) lifetime, a third of it is left: due for renewal (gen in-process, with a clock).
    const later = { now: () => new Date(Date.now() + 21 * DAY) };
    const { generateCluster } = await import('../../src/cluster/generate.js');
    const { parseSpec } = await import('../../src/cluster/spec.js');
    const { plan, result } = await generateCluster(parseSpec(SPEC, 'spec.yaml'), { out: path.join(dir, 'pki'), clock: later });
    const reissued = result.issued.map((c) => [path.relative(path.join(dir, 'pki'), c.certPath), c.reasons.join('; ')]);
    assert.deepEqual(reissued.map(([f]) => f).sort(), ['clients/admin/client.pem', 'nodes/m1/peer.pem', 'nodes/m1/server.pem']);
    assert.match(reissued[0]?.[1] ?? '', /due for renewal|expired/);
    assert.ok(plan.certificates.filter((c) => c.action === 'reissue').every((c) => c.renewFrom !== undefined), 'reissued through the renew path');
    assert.notEqual(readFileSync(cert, 'utf8'), before.cert);
    assert.equal(readFileSync(key, 'utf8'), before.key, 'gen renewed with the same key');
    const { X509Certificate } = await import('node:crypto');
    const [a, b] = [before.cert, readFileSync(cert, 'utf8')].map((p) => new X509Certificate(p));
    assert.equal(b?.subject, a?.subject);
    assert.equal(b?.subjectAltName, a?.subjectAltName);
    assert.deepEqual(b?.keyUsage, a?.keyUsage);
    assert.ok(b?.publicKey.equals(a!.publicKey));
    const rekey = await cli('renew', 'pki', '--member', 'm1', '--rekey');
    assert.equal(rekey.code, 0, rekey.stderr);
    assert.notEqual(readFileSync(key, 'utf8'), before.key);
    assert.ok(new X509Certificate(readFileSync(cert, 'utf8')).checkPrivateKey((await import('node:crypto')).createPrivateKey(readFileSync(key, 'utf8'))));
  });
});
