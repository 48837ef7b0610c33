/// <reference lib="dom" />
// `etcd-tls report --html` opened from file:// in a real headless Chromium (puppeteer-core): no console
// or page error, no request but the file itself, every certificate of DIR in the page and on the SVG
// timeline with a "now" line, the same text without JavaScript, and a hostile CN shown as text.
// The screenshot is kept in test-artifacts/report.png. Addresses 127.0.0.171-173 appear only in SANs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { etcdTls, findBinary, REPO_ROOT, requireBinary } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

const SPEC = `cluster: demo
ca:
  cn: demo etcd CA
members:
  - name: member1
    ips: [127.0.0.171]
  - name: member2
    ips: [127.0.0.172]
    validity: 720h
  - name: member3
    ips: [127.0.0.173]
    dns: [etcd3.example.internal]
clients:
  - name: admin
    cn: root
    validity: 48h
  - name: kube-apiserver
    cn: "<img src=x onerror=alert(1)>kube-apiserver"
`;

/** Every certificate file of DIR (not the bundles' copies of ca.pem), with its CN. */
function certificatesIn(dir: string): { file: string; cn: string }[] {
  const files = [path.join(dir, 'ca.pem')];
  for (const group of ['nodes', 'clients'])
    for (const bundle of readdirSync(path.join(dir, group)))
      for (const f of readdirSync(path.join(dir, group, bundle))) if (/^(server|peer|client)\.pem$/.test(f)) files.push(path.join(dir, group, bundle, f));
  return files.map((file) => ({ file, cn: /(?:^|\n)CN=(.*)/.exec(new X509Certificate(readFileSync(file)).subject)?.[1]?.replace(/\\(.)/g, '$1') ?? '' }));
}

test('report --html renders every certificate in headless Chromium, without network or errors', { timeout: 120_000 }, async (t) => {
  if (!requireBinary(t, 'chromium')) return;
  const puppeteer = (await import('puppeteer-core')).default;
  const tmp = await makeTempDir(t, 'report');
  writeFileSync(path.join(tmp, 'spec.yaml'), SPEC);
  const gen = await etcdTls(['gen', path.join(tmp, 'spec.yaml'), '--out', path.join(tmp, 'pki')]);
  assert.equal(gen.code, 0, gen.stderr);
  // 22 days on: admin (48h) has expired, member2 (30 days) is inside its renewal window, the rest are fine.
  const now = new Date(Date.now() + 22 * 86_400_000).toISOString();
  const html = path.join(tmp, 'report.html');
  const r = await etcdTls(['report', path.join(tmp, 'pki'), '--html', html, '--now', now]);
  assert.equal(r.code, 0, r.stderr);
  const stdout = await etcdTls(['report', path.join(tmp, 'pki'), '--html', '-', '--now', now]);
  assert.equal(stdout.stdout, readFileSync(html, 'utf8'), '--html - prints the same page');
  const certs = certificatesIn(path.join(tmp, 'pki'));
  assert.equal(certs.length, 1 + 3 * 2 + 2);

  const browser = await puppeteer.launch({
    executablePath: findBinary('chromium') as string,
    userDataDir: path.join(tmp, 'chromium-profile'),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const url = pathToFileURL(html).href;
    const open = async (javaScript: boolean) => {
      const page = await browser.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${String(e)}`));
      page.on('request', (req) => requests.push(req.url()));
      await page.setJavaScriptEnabled(javaScript);
      await page.setViewport({ width: 1000, height: 800 });
      await page.goto(url, { waitUntil: 'load' });
      return { page, problems, requests };
    };

    const { page, problems, requests } = await open(true);
    assert.deepEqual(problems, []);
    assert.deepEqual(requests, [url], 'the page loads nothing but itself');
    const text = await page.evaluate(() => document.body.innerText);
    for (const c of certs) assert.ok(text.includes(c.cn), `${path.relative(tmp, c.file)}: CN ${c.cn} is in the page`);
    assert.equal(await page.evaluate(() => document.querySelectorAll('img').length), 0, 'the hostile CN is text, not an element');
    assert.ok(text.includes('127.0.0.171') && text.includes('etcd3.example.internal'), 'SANs are shown');
    assert.match(text, /ecdsa-256/);
    const marks = await page.evaluate(() => Array.from(document.querySelectorAll('svg g.mark'), (g) => g.getAttribute('data-name')));
    assert.equal(marks.length, certs.length, `one timeline mark per certificate: ${marks.join(', ')}`);
    assert.equal(new Set(marks).size, certs.length);
    assert.equal(await page.evaluate(() => document.querySelectorAll('svg line.now').length), 1, 'a "now" line');
    assert.equal(await page.evaluate(() => document.querySelectorAll('svg rect.renewal').length), certs.length, 'a renewal window per certificate');
    // The grading is visible: admin expired (critical), member2 within 30 days (warn).
    assert.equal(await page.evaluate(() => document.querySelector('.cert[data-name="admin"]')?.classList.contains('critical')), true);
    assert.equal(await page.evaluate(() => document.querySelector('.cert[data-name="member2/server"]')?.classList.contains('warn')), true);
    assert.match(text, /Errors \(\d+\)/, 'check findings grouped by severity');
    mkdirSync(path.join(REPO_ROOT, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: path.join(REPO_ROOT, 'test-artifacts', 'report.png'), fullPage: true });

    const noJs = await open(false);
    assert.deepEqual(noJs.problems, []);
    assert.equal(await noJs.page.evaluate(() => document.body.innerText), text, 'the same text without JavaScript');
  } finally {
    await browser.close();
  }
});
