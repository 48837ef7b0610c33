// The HTML renderer treats every name as hostile: no markup from a certificate survives, the page has
// a CSP that forbids loading anything and carries no script.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderReportHtml } from '../../src/report/html.js';
import type { ReportCertificate } from '../../src/report/model.js';

const NOW = new Date('2027-01-01T00:00:00Z');
const cert = (over: Partial<ReportCertificate>): ReportCertificate => ({
  name: 'ca', role: 'ca', bundle: 'ca', commonName: 'ca', subject: 'CN=ca', issuedBy: 'ca', sans: [], keyType: 'ecdsa-256',
  notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2036-01-01T00:00:00Z'), renewalWindowMs: 30 * 86_400_000, level: 'ok', problems: [], ...over,
});

test('hostile names are escaped; CSP forbids loading; no script', () => {
  const evil = '</title><script>alert(1)</script><img src=x onerror=alert(2)>"\'\u0007';
  const html = renderReportHtml({
    dir: `/tmp/${evil}`,
    now: NOW,
    cas: [cert({ commonName: evil, subject: `CN=${evil}` })],
    leaves: [cert({ name: `x/${evil}`, role: 'client', bundle: evil, commonName: evil, sans: [evil], notAfter: new Date('2027-02-01T00:00:00Z') })],
    otherProblems: [{ name: evil, problems: [evil] }],
    findings: [{ code: 'cert-expired', severity: 'error', subject: evil, message: evil, fix: evil }],
  });
  assert.doesNotMatch(html, /<script|<img|onerror=alert\(2\)>|\u0007/i);
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; img-src data:">/);
  assert.equal((html.match(/class="mark"/g) ?? []).length, 2);
});
