// Hostile input at every edge that issues or echoes: control characters in names and flags, SANs and
// keys a CSR smuggles past `sign`, a catastrophic name_whitelist, oversized fields and small contract
// holes. Each case runs the real CLI the way a user (or an attacker) would.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { sign, type KeyObject } from 'node:crypto';
import { bitString, implicitConstructed, oid, sequence, setOf, smallInteger } from '../../src/pki/der.js';
import { toPem } from '../../src/pki/pem.js';
import { encodeExtension, subjectAltName } from '../../src/pki/extensions.js';
import { signatureAlgorithmFor, spkiDer } from '../../src/pki/keys.js';
import { encodeName } from '../../src/pki/name.js';
import { emptySans, type SubjectAltNames } from '../../src/pki/san.js';
import type { Name } from '../../src/pki/name.js';
import { etcdTls } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

/** One line on stderr with a code, no raw control character, exit 1. */
function assertCleanError(r: { code: number | null; stderr: string }, code: string): void {
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^etcd-tls: ${code}: `), r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('etcd-tls: warning: '));
  assert.equal(lines.length, 1, `one error line expected: ${JSON.stringify(r.stderr)}`);
  assert.doesNotMatch(r.stderr.replace(/\n$/, '').replace(/\n(?=etcd-tls: )/g, ''), /[\x00-\x1f\x7f-\x9f]/, `raw control character in ${JSON.stringify(r.stderr)}`);
}

async function newCa(dir: string): Promise<void> {
  writeFileSync(path.join(dir, 'ca-csr.json'), '{"CN":"test CA"}');
  const r = await etcdTls(['gencert', '-initca', 'ca-csr.json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { cert: string; key: string };
  writeFileSync(path.join(dir, 'ca.pem'), out.cert);
  writeFileSync(path.join(dir, 'ca-key.pem'), out.key, { mode: 0o600 });
}

const CA = ['-ca', 'ca.pem', '-ca-key', 'ca-key.pem'];

/** A PKCS#10 CSR built without any validation (buildCsr validates now; an attacker's tool would not). */
function unvalidatedCsr(subject: Name, sans: SubjectAltNames, privateKey: KeyObject): Buffer {
  const exts = sans.dns.length + sans.ips.length + sans.emails.length + sans.uris.length ? [subjectAltName(sans, false)] : [];
  const attributes = exts.length ? [sequence(oid('1.2.840.113549.1.9.14'), setOf(sequence(...exts.map(encodeExtension))))] : [];
  const info = sequence(smallInteger(0), encodeName(subject), spkiDer(privateKey), implicitConstructed(0, Buffer.concat(attributes)));
  const alg = signatureAlgorithmFor(privateKey);
  return sequence(info, alg.algorithmIdentifier, bitString(sign(alg.digest, info, privateKey)));
}

/** A CSR with whatever subject, SANs and key it is given. */
function csrPem(opts: { subject?: Name; sans?: Partial<SubjectAltNames>; key?: 'rsa' | 'ec'; keyOpts?: object }): string {
  const { privateKey } = generateKeyPairSync((opts.key ?? 'ec') as 'ec', (opts.keyOpts ?? { namedCurve: 'P-256' }) as { namedCurve: string });
  const der = unvalidatedCsr(opts.subject ?? [{ type: 'CN', value: 'x' }], { ...emptySans(), ...opts.sans }, privateKey);
  return toPem('CERTIFICATE REQUEST', der);
}

describe('control characters are refused at every input and never echoed raw', () => {
  test('a spec client cn with a newline is BAD_SPEC naming the field; plan prints nothing', async (t) => {
    const dir = await makeTempDir(t, 'hostile-');
    writeFileSync(path.join(dir, 'spec.yaml'), 'cluster: demo\nmembers:\n  - { name: m1, ips: [127.0.0.101] }\nclients:\n  - { name: admin, cn: "root\\ntouch pwned\\n#" }\n');
    for (const cmd of ['plan', 'gen']) {
      const r = await etcdTls([cmd, 'spec.yaml', '--out', 'pki'], { cwd: dir });
      assertCleanError(r, 'CONTROL_CHARACTER');
      assert.match(r.stderr, /clients\[0\]\.cn/);
      assert.equal(r.stdout, '');
    }
    assert.ok(!existsSync(path.join(dir, 'pki')));
  });

  test('a spec dns entry with a newline, and a CA name with ESC, are one escaped line', async (t) => {
    const dir = await makeTempDir(t, 'hostile-');
    writeFileSync(path.join(dir, 'a.yaml'), 'cluster: demo\nmembers:\n  - { name: m1, dns: ["a\\nb.example"] }\n');
    assertCleanError(await etcdTls(['plan', 'a.yaml'], { cwd: dir }), 'CONTROL_CHARACTER');
    writeFileSync(path.join(dir, 'b.yaml'), 'cluster: demo\nca: { cn: "evil \\e[31mred" }\nmembers:\n  - { name: m1, ips: [127.0.0.101] }\n');
    const r = await etcdTls(['plan', 'b.yaml'], { cwd: dir });
    assertCleanError(r, 'CONTROL_CHARACTER');
    assert.match(r.stderr, /ca\.cn/);
  });

  for (const [label, cn] of [['NUL', 'a\u0000b'], ['ESC', 'a\u001b[31mb'], ['newline', 'a\nb'], ['DEL', 'a\u007fb'], ['C1 CSI', 'a\u009bb']] as const) {
    test(`gencert refuses a CN with ${label}`, async (t) => {
      const dir = await makeTempDir(t, 'hostile-');
      await newCa(dir);
      writeFileSync(path.join(dir, 'csr.json'), JSON.stringify({ CN: cn }));
      const r = await etcdTls(['gencert', ...CA, '-hostname', 'x.example', 'csr.json'], { cwd: dir });
      assertCleanError(r, 'CONTROL_CHARACTER');
      assert.match(r.stderr, /csr\.json: CN/);
      assert.equal(r.stdout, '');
    });
  }

  test('a control character in a names entry, in genkey -initca and selfsign too', async (t) => {
    const dir = await makeTempDir(t, 'hostile-');
    writeFileSync(path.join(dir, 'csr.json'), JSON.stringify({ CN: 'ok', names: [{ O: 'x\ny' }] }));
    for (const args of [['gencert', '-initca', 'csr.json'], ['genkey', '-initca', 'csr.json'], ['genkey', 'csr.json'], ['selfsign', 'x.example', 'csr.json']]) {
      const r = await etcdTls(args, { cwd: dir });
      assertCleanError(r, 'CONTROL_CHARACTER');
      assert.match(r.stderr, /names\[0\]\.O/, args.join(' '));
    }
  });

  test('sign refuses a CSR whose subject carries a control character', async (t) => {
    const dir = await makeTempDir(t, 'hostile-');
    await newCa(dir);
    writeFileSync(path.join(dir, 'evil.csr'), csrPem({ subject: [{ type: 'CN', value: 'root\ntouch pwned' }] }));
    const r = await etcdTls(['sign', ...CA, 'evil.csr'], { cwd: dir });
    assertCleanError(r, 'CONTROL_CHARACTER');
    assert.match(r.stderr, /evil\.csr: subject CN/);
  });

  test("-hostname $'a\\nb' and -hostname=$'a\\nb' are one escaped line about the hostname", async (t) => {
    const dir = await makeTempDir(t, 'hostile-');
    await newCa(dir);
    writeFileSync(path.join(dir, 'csr.json'), '{"CN":"x"}');
    for (const flag of [['-hostname', 'a\nb'], ['-hostname=a\nb']]) {
      const r = await etcdTls(['gencert', ...CA, ...flag, 'csr.json'], { cwd: dir });
      assertCleanError(r, 'CONTROL_CHARACTER');
      assert.match(r.stderr, /-hostname/);
      assert.match(r.stderr, /a\\nb/);
    }
  });

  test('explain with nothing recognised reports a code', async () => {
    const r = await etcdTls(['explain'], { stdin: 'hello world\n' });
    assertCleanError(r, 'NOTHING_RECOGNISED');
  });
});

describe('sign applies the checks gencert applies', () => {
  const cases: [string, Parameters<typeof csrPem>[0], string][] = [
    ['DNS SAN $(id)', { sans: { dns: ['$(id)'] } }, 'BAD_HOSTNAME'],
    ['DNS SAN *.*.bad..name', { sans: { dns: ['*.*.bad..name'] } }, 'BAD_HOSTNAME'],
    ['IP SAN 0.0.0.0', { sans: { ips: ['0.0.0.0'] } }, 'BAD_HOSTNAME'],
    ['IP SAN 255.255.255.255', { sans: { ips: ['255.255.255.255'] } }, 'BAD_HOSTNAME'],
    ['IP SAN 224.0.0.1 (multicast)', { sans: { ips: ['224.0.0.1'] } }, 'BAD_HOSTNAME'],
    ['IP SAN :: (unspecified)', { sans: { ips: ['::'] } }, 'BAD_HOSTNAME'],
    ['URI SAN with a newline', { sans: { uris: ['https://a.example/\nx'] } }, 'CONTROL_CHARACTER'],
    ['RSA-1024 key', { key: 'rsa', keyOpts: { modulusLength: 1024 } }, 'BAD_KEY_SPEC'],
    ['secp256k1 key', { key: 'ec', keyOpts: { namedCurve: 'secp256k1' } }, 'BAD_KEY_SPEC'],
  ];
  for (const [label, csr, code] of cases) {
    test(`a CSR with ${label} is refused (${code}); nothing on stdout`, async (t) => {
      const dir = await makeTempDir(t, 'hostile-');
      await newCa(dir);
      let pem: string;
      try {
        pem = csrPem(csr);
      } catch {
        t.skip('this OpenSSL cannot make the key');
        return;
      }
      writeFileSync(path.join(dir, 'req.csr'), pem);
      const r = await etcdTls(['sign', ...CA, 'req.csr'], { cwd: dir });
      assertCleanError(r, code);
      assert.match(r.stderr, /req\.csr/);
      assert.equal(r.stdout, '');
    });
  }

  test('gencert -initca -ca-key refuses a 1024-bit RSA key', async (t) => {
    const dir = await makeTempDir(t, 'hostile-');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    writeFileSync(path.join(dir, 'weak.pem'), privateKey.export({ format: 'pem', type: 'pkcs1' }) as string);
    writeFileSync(path.join(dir, 'csr.json'), '{"CN":"ca"}');
    const r = await etcdTls(['gencert', '-initca', '-ca-key', 'weak.pem', 'csr.json'], { cwd: dir });
    assertCleanError(r, 'BAD_KEY_SPEC');
    assert.match(r.stderr, /1024/);
  });

  test('gencert -hostname 0.0.0.0 and a spec member ip 255.255.255.255 are refused', async (t) => {
    const dir = await makeTempDir(t, 'hostile-');
    await newCa(dir);
    writeFileSync(path.join(dir, 'csr.json'), '{"CN":"x"}');
    assertCleanError(await etcdTls(['gencert', ...CA, '-hostname', '0.0.0.0', 'csr.json'], { cwd: dir }), 'BAD_HOSTNAME');
    for (const ip of ['0.0.0.0', '255.255.255.255', '239.1.2.3', 'ff02::1']) {
      writeFileSync(path.join(dir, 'spec.yaml'), `cluster: demo\nmembers:\n  - { name: m1, ips: ["${ip}"] }\n`);
      const r = await etcdTls(['plan', 'spec.yaml'], { cwd: dir });
      assertCleanError(r, 'BAD_SPEC');
      assert.match(r.stderr, /members\[0\]\.ips\[0\]/);
    }
  });
});

describe('name_whitelist runs in linear time (RE2 semantics, as cfssl)', () => {
  test('"(a+)+$" against 40 a and a ! answers at once with NAME_NOT_ALLOWED', async (t) => {
    const dir = await makeTempDir(t, 'hostile-');
    await newCa(dir);
    writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({ signing: { default: { expiry: '8760h', usages: ['client auth'], name_whitelist: '(a+)+$' } } }),
    );
    writeFileSync(path.join(dir, 'csr.json'), JSON.stringify({ CN: `${'a'.repeat(40)}!` }));
    // A backtracking engine takes minutes here; the run's own timeout makes a hang a failure, not a stall.
    const r = await etcdTls(['gencert', ...CA, '-config', 'config.json', 'csr.json'], { cwd: dir, timeoutMs: 20_000 });
    assert.equal(r.timedOut, false, 'the whitelist match hung');
    assertCleanError(r, 'NAME_NOT_ALLOWED');
  });

  test('RE2 syntax differences are reported as BAD_CONFIG (backreferences are not RE2)', async (t) => {
    const dir = await makeTempDir(t, 'hostile-');
    await newCa(dir);
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ signing: { default: { expiry: '8760h', usages: ['client auth'], name_whitelist: '(a)\\1' } } }));
    writeFileSync(path.join(dir, 'csr.json'), '{"CN":"aa"}');
    assertCleanError(await etcdTls(['gencert', ...CA, '-config', 'config.json', 'csr.json'], { cwd: dir }), 'BAD_CONFIG');
  });
});

describe('sizes, encodings and small contract items', () => {
  test('a 50 MB CN is refused before it is read whole; a 1 MB CN is one clear TOO_LONG error', async (t) => {
    const dir = await makeTempDir(t, 'hostile-');
    await newCa(dir);
    writeFileSync(path.join(dir, 'csr.json'), `{"CN":"${'a'.repeat(50 * 1024 * 1024)}"}`);
    let r = await etcdTls(['gencert', ...CA, '-hostname', 'x.example', 'csr.json'], { cwd: dir });
    assertCleanError(r, 'INPUT_TOO_LARGE');
    writeFileSync(path.join(dir, 'csr.json'), `{"CN":"${'a'.repeat(1024 * 1024)}"}`);
    r = await etcdTls(['gencert', ...CA, '-hostname', 'x.example', 'csr.json'], { cwd: dir });
    assertCleanError(r, 'TOO_LONG');
    assert.ok(r.stderr.length < 400, 'the message must not echo the value');
  });

  test('invalid UTF-8 in a CSR JSON or a spec is BAD_ENCODING naming the file', async (t) => {
    const dir = await makeTempDir(t, 'hostile-');
    writeFileSync(path.join(dir, 'csr.json'), Buffer.concat([Buffer.from('{"CN":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('b"}')]));
    const r = await etcdTls(['gencert', '-initca', 'csr.json'], { cwd: dir });
    assertCleanError(r, 'BAD_ENCODING');
    assert.match(r.stderr, /csr\.json/);
    writeFileSync(path.join(dir, 'spec.yaml'), Buffer.concat([Buffer.from('cluster: demo\nca: { cn: "a'), Buffer.from([0xc3]), Buffer.from('" }\nmembers:\n  - { name: m1, ips: [127.0.0.101] }\n')]));
    const s = await etcdTls(['plan', 'spec.yaml'], { cwd: dir });
    assertCleanError(s, 'BAD_ENCODING');
    assert.match(s.stderr, /spec\.yaml/);
  });

  test("json -bare '' and gen --out '' are usage errors that write nothing", async (t) => {
    const dir = await makeTempDir(t, 'hostile-');
    writeFileSync(path.join(dir, 'csr.json'), '{"CN":"ca"}');
    const ca = await etcdTls(['gencert', '-initca', 'csr.json'], { cwd: dir });
    const r = await etcdTls(['json', '-bare', ''], { cwd: dir, stdin: ca.stdout });
    assertCleanError(r, 'USAGE');
    writeFileSync(path.join(dir, 'spec.yaml'), 'cluster: demo\nmembers:\n  - { name: m1, ips: [127.0.0.101] }\n');
    assertCleanError(await etcdTls(['gen', 'spec.yaml', '--out', ''], { cwd: dir }), 'USAGE');
    assert.deepEqual(readdirSync(dir).sort(), ['csr.json', 'spec.yaml']);
  });

  test('a repeated single-value flag is a usage error, not "the last one wins"', async (t) => {
    const dir = await makeTempDir(t, 'hostile-');
    await newCa(dir);
    writeFileSync(path.join(dir, 'csr.json'), '{"CN":"x"}');
    const r = await etcdTls(['gencert', ...CA, '-hostname', 'a.example', '-hostname', 'b.example', 'csr.json'], { cwd: dir });
    assertCleanError(r, 'USAGE');
    assert.match(r.stderr, /hostname/);
  });

  for (const [field, value] of [['crl_url', 'http://crl.example/\nca.crl'], ['ocsp_url', 'http://ocsp.example/\u0000']] as const) {
    test(`a ${field} with a control character never reaches a certificate`, async (t) => {
      const dir = await makeTempDir(t, 'hostile-');
      await newCa(dir);
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ signing: { default: { expiry: '8760h', usages: ['client auth'], [field]: value } } }));
      writeFileSync(path.join(dir, 'csr.json'), '{"CN":"x"}');
      const r = await etcdTls(['gencert', ...CA, '-config', 'config.json', 'csr.json'], { cwd: dir });
      assertCleanError(r, 'CONTROL_CHARACTER');
      assert.match(r.stderr, new RegExp(field));
    });
  }
});

