/**
 * Prometheus text metrics for `GET /metrics`: requests by endpoint and status, certificates issued
 * and revoked, and a request latency histogram by endpoint. In-process counters, no dependency.
 * With several worker processes each counts its own requests; a snapshot is plain data so they can
 * be summed into the whole server's figures (metrics-cluster.ts).
 */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

/** Counters as plain, structured-clone-safe data (what a worker sends its primary). */
export interface MetricsSnapshot {
  requests: [key: string, count: number][];
  latency: [endpoint: string, histogram: Histogram][];
  issued: number;
  revoked: number;
}

const label = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();
  issued = 0;
  revoked = 0;

  /** One finished request. `endpoint` is a known name or "other", never the raw path (bounded labels). */
  observe(endpoint: string, status: number, seconds: number): void {
    const key = `${endpoint}\u0000${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    let h = this.latency.get(endpoint);
    if (!h) this.latency.set(endpoint, (h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= (BUCKETS[i] as number)) (h.counts[i] as number)++;
    h.sum += seconds;
    h.count++;
  }

  snapshot(): MetricsSnapshot {
    return {
      requests: [...this.requests],
      latency: [...this.latency].map(([e, h]) => [e, { counts: h.counts.slice(), sum: h.sum, count: h.count }]),
      issued: this.issued,
      revoked: this.revoked,
    };
  }

  /** Add another process's counters to these. */
  add(s: MetricsSnapshot): this {
    for (const [key, n] of s.requests) this.requests.set(key, (this.requests.get(key) ?? 0) + n);
    for (const [endpoint, other] of s.latency) {
      let h = this.latency.get(endpoint);
      if (!h) this.latency.set(endpoint, (h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 }));
      for (let i = 0; i < BUCKETS.length; i++) (h.counts[i] as number) += other.counts[i] ?? 0;
      h.sum += other.sum;
      h.count += other.count;
    }
    this.issued += s.issued;
    this.revoked += s.revoked;
    return this;
  }

  /** The sum of several processes' snapshots. */
  static sum(snapshots: readonly MetricsSnapshot[]): Metrics {
    const m = new Metrics();
    for (const s of snapshots) m.add(s);
    return m;
  }

  render(): string {
    const out: string[] = [
      '# HELP etcd_tls_http_requests_total HTTP requests by endpoint and status code.',
      '# TYPE etcd_tls_http_requests_total counter',
    ];
    for (const [key, n] of [...this.requests].sort()) {
      const [endpoint = '', status = ''] = key.split('\u0000');
      out.push(`etcd_tls_http_requests_total{endpoint="${label(endpoint)}",code="${status}"} ${n}`);
    }
    out.push('# HELP etcd_tls_certificates_issued_total Certificates issued and recorded in the ledger.', '# TYPE etcd_tls_certificates_issued_total counter', `etcd_tls_certificates_issued_total ${this.issued}`);
    out.push('# HELP etcd_tls_certificates_revoked_total Certificates revoked through the API.', '# TYPE etcd_tls_certificates_revoked_total counter', `etcd_tls_certificates_revoked_total ${this.revoked}`);
    out.push('# HELP etcd_tls_http_request_duration_seconds Time from request to response.', '# TYPE etcd_tls_http_request_duration_seconds histogram');
    for (const [endpoint, h] of [...this.latency].sort(([a], [b]) => a.localeCompare(b))) {
      const e = label(endpoint);
      BUCKETS.forEach((b, i) => out.push(`etcd_tls_http_request_duration_seconds_bucket{endpoint="${e}",le="${b}"} ${h.counts[i]}`));
      out.push(`etcd_tls_http_request_duration_seconds_bucket{endpoint="${e}",le="+Inf"} ${h.count}`);
      out.push(`etcd_tls_http_request_duration_seconds_sum{endpoint="${e}"} ${h.sum}`);
      out.push(`etcd_tls_http_request_duration_seconds_count{endpoint="${e}"} ${h.count}`);
    }
    return `${out.join('\n')}\n`;
  }
}
