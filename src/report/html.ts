/**
 * The report as one self-contained HTML page: no script, no external resource, a CSP that forbids
 * loading anything, inline CSS and an inline SVG timeline. Pure: a ReportModel in, a string out.
 * Every value is escaped — names inside certificates are hostile input.
 */
import { groupFindings, summaryLine, type Finding } from '../doctor/findings.js';
import type { Severity } from '../doctor/severity.js';
import type { ReportCertificate, ReportModel } from './model.js';

/** Escape text for HTML element content and double-quoted attributes; control characters become U+FFFD. */
export function escapeHtml(value: string): string {
  return value
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
const h = escapeHtml;

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
const DAY = 86_400_000;
const isoMinute = (d: Date): string => d.toISOString().slice(0, 16).replace('T', ' ');
function timeLeft(ms: number): string {
  const abs = Math.abs(ms);
  const d = Math.floor(abs / DAY);
  const hrs = Math.floor((abs % DAY) / 3_600_000);
  const text = d > 0 ? `${d}d ${hrs}h` : `${hrs}h ${Math.floor((abs % 3_600_000) / 60_000)}m`;
  return ms < 0 ? `expired ${text} ago` : `${text} left`;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1f24;background:#fff}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.4em 0 .5em;border-bottom:1px solid #d0d7de}
.meta{color:#57606a}
.ca{border:2px solid #0969da;border-radius:6px;padding:.6em .8em;margin:.6em 0}
.bundles{display:flex;flex-wrap:wrap;gap:.6em;margin:.6em 0 0 1.2em}
.bundle{border:1px solid #d0d7de;border-radius:6px;padding:.4em .6em;min-width:16em;flex:1 1 18em}
.bundle h4{margin:0 0 .3em;font-size:1em}
.cert{margin:.3em 0;padding:.3em .4em;border-left:4px solid #2da44e;background:#f6f8fa}
.cert.warn{border-left-color:#bf8700}.cert.critical{border-left-color:#cf222e}
.cn{font-weight:600}.role{font-size:.8em;text-transform:uppercase;color:#57606a;margin-right:.4em}
.small{font-size:.85em;color:#424a53;word-break:break-all}
.problem{color:#cf222e}
svg text{font:11px system-ui,sans-serif}
.sev-error h3{color:#cf222e}.sev-warning h3{color:#9a6700}.sev-info h3{color:#57606a}
.finding{margin:.25em 0 .25em 1em}.code{font-family:monospace;font-size:.9em}
`;

function certificateBlock(c: ReportCertificate, now: Date): string {
  const problems = c.problems.length ? `<div class="small problem">${h(c.problems.join('; '))}</div>` : '';
  const sans = c.sans.length ? `<div class="small">SANs: ${h(c.sans.join(', '))}</div>` : '';
  return (
    `<div class="cert ${c.level}" data-name="${h(c.name)}">` +
    `<span class="role">${h(c.role)}</span><span class="cn">${h(c.commonName)}</span>` +
    `<div class="small">Subject: ${h(c.subject)}</div>${sans}` +
    `<div class="small">Key: ${h(c.keyType)} · issued by ${h(c.issuedBy)} · until ${h(isoMinute(c.notAfter))} UTC (${h(timeLeft(c.notAfter.getTime() - now.getTime()))})</div>${problems}</div>`
  );
}

function chainSection(m: ReportModel): string {
  if (m.cas.length === 0) return '<p class="problem">No CA certificate could be read from ca.pem.</p>';
  return m.cas
    .map((ca) => {
      const issued = m.leaves.filter((l) => l.issuedBy === ca.name);
      const bundles = [...new Set(issued.map((l) => l.bundle))];
      const body = bundles
        .map((b) => `<div class="bundle"><h4>${h(b)}</h4>${issued.filter((l) => l.bundle === b).map((l) => certificateBlock(l, m.now)).join('')}</div>`)
        .join('');
      return `<div class="ca">${certificateBlock(ca, m.now)}<div class="bundles">${body || '<span class="small">no certificate of DIR is issued by this CA</span>'}</div></div>`;
    })
    .join('');
}

function orphanSection(m: ReportModel): string {
  const orphans = m.leaves.filter((l) => !m.cas.some((ca) => ca.name === l.issuedBy));
  if (!orphans.length) return '';
  return `<h2>Certificates not issued by a CA of ca.pem</h2><div class="bundles">${orphans.map((l) => certificateBlock(l, m.now)).join('')}</div>`;
}

const COLOR = { ok: '#2da44e', warn: '#bf8700', critical: '#cf222e' } as const;

/** One row per certificate: its validity as a bar, the renewal window hatched at its end, a "now" line. */
function timeline(m: ReportModel): string {
  const certs = [...m.cas, ...m.leaves];
  if (!certs.length) return '';
  const label = 190;
  const width = 900;
  const rowH = 22;
  const top = 24;
  const height = top + certs.length * rowH + 24;
  // The scale follows the leaves: a ten-year CA would squeeze one-year leaves into a sliver. Bars that
  // run past the right edge are cut there and labelled with their end date.
  const scaled = m.leaves.length ? m.leaves : certs;
  const start = Math.min(m.now.getTime(), ...certs.map((c) => c.notBefore.getTime()));
  const end = Math.max(m.now.getTime(), ...scaled.map((c) => c.notAfter.getTime())) + DAY;
  const span = Math.max(end - start, 1);
  const x = (t: number): number => Math.round((label + ((Math.min(t, end) - start) / span) * (width - label - 10)) * 10) / 10;
  const rows = certs
    .map((c, i) => {
      const y = top + i * rowH;
      const x0 = x(c.notBefore.getTime());
      const x1 = x(c.notAfter.getTime());
      const xr = x(c.notAfter.getTime() - c.renewalWindowMs);
      return (
        `<g class="mark" data-name="${h(c.name)}"><title>${h(`${c.name}: ${c.commonName}, ${isoMinute(c.notBefore)} – ${isoMinute(c.notAfter)} UTC, renewal due from ${isoMinute(new Date(c.notAfter.getTime() - c.renewalWindowMs))}`)}</title>` +
        `<text x="4" y="${y + 14}">${h(c.name.length > 28 ? `${c.name.slice(0, 27)}…` : c.name)}</text>` +
        `<rect x="${x0}" y="${y + 4}" width="${Math.max(x1 - x0, 1)}" height="12" fill="${COLOR[c.level]}" opacity="0.8"/>` +
        (c.notAfter.getTime() - c.renewalWindowMs > end
          ? `<rect class="renewal" x="${x1}" y="${y + 4}" width="0" height="12"/><text x="${x1 - 4}" y="${y + 14}" text-anchor="end" fill="#fff">→ ${h(isoMinute(c.notAfter).slice(0, 10))}</text></g>`
          : `<rect class="renewal" x="${xr}" y="${y + 4}" width="${Math.max(x1 - xr, 1)}" height="12" fill="url(#hatch)"/></g>`)
      );
    })
    .join('');
  const nx = x(m.now.getTime());
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Expiry timeline" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="3" height="6" fill="#1b1f24" opacity="0.45"/></pattern></defs>` +
    `<text x="${label}" y="14">${h(isoMinute(new Date(start)))}</text><text x="${width - 10}" y="14" text-anchor="end">${h(isoMinute(new Date(end)))}</text>` +
    rows +
    `<line class="now" x1="${nx}" y1="${top - 6}" x2="${nx}" y2="${height - 16}" stroke="#0969da" stroke-width="2"/>` +
    `<text x="${nx}" y="${height - 4}" text-anchor="middle" fill="#0969da">now ${h(isoMinute(m.now))}</text></svg>` +
    `<p class="small">Bars: validity (green ok, amber warn, red critical). Hatched: the renewal window (the last third of the lifetime, at most 30 days). Blue line: now.</p>`
  );
}

const SEVERITY_TITLE: Record<Severity, string> = { error: 'Errors', warning: 'Warnings', info: 'Notes' };

function findingsSection(findings: readonly Finding[]): string {
  if (!findings.length) return '<p>check found nothing to report.</p>';
  const out = [`<p>${h(summaryLine(findings))}</p>`];
  for (const severity of ['error', 'warning', 'info'] as const) {
    const these = findings.filter((f) => f.severity === severity);
    if (!these.length) continue;
    const groups = groupFindings(these)
      .map(
        (g) =>
          `<div class="group"><div class="small">${h(g.subject)}</div>` +
          g.findings.map((f) => `<div class="finding"><span class="code">${h(f.code)}</span>: ${h(f.message)}<div class="small">Fix: ${h(f.fix)}</div></div>`).join('') +
          '</div>',
      )
      .join('');
    out.push(`<section class="sev-${severity}"><h3>${SEVERITY_TITLE[severity]} (${these.length})</h3>${groups}</section>`);
  }
  return out.join('');
}

/** The whole page. Deterministic for a given model (the time shown is the model's `now`). */
export function renderReportHtml(m: ReportModel): string {
  const other = m.otherProblems.length
    ? `<h2>Missing or broken files</h2><ul>${m.otherProblems.map((p) => `<li>${h(p.name)}: <span class="problem">${h(p.problems.join('; '))}</span></li>`).join('')}</ul>`
    : '';
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${h(CSP)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>etcd-tls report: ${h(m.dir)}</title><style>${STYLE}</style></head><body>`,
    `<h1>etcd-tls report</h1><p class="meta">${h(m.dir)} · as of ${h(isoMinute(m.now))} UTC · ${m.cas.length} CA(s), ${m.leaves.length} leaf certificate(s)</p>`,
    '<h2>Trust chain</h2>',
    chainSection(m),
    orphanSection(m),
    other,
    '<h2>Expiry timeline</h2>',
    timeline(m),
    '<h2>check findings</h2>',
    findingsSection(m.findings),
    '</body></html>',
    '',
  ].join('\n');
}
