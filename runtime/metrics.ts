// Prometheus metrics of the tool calls, served at /metrics by the HTTP transport: calls by tool
// and outcome, their latency as a histogram, and calls in flight. Kept in memory; cheap enough to
// record on every call (a few map updates).
import { otelInstruments } from './telemetry.ts';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

class Metrics {
  private calls = new Map<string, number>();
  private histograms = new Map<string, { counts: number[]; sum: number; count: number }>();
  private flying = 0;
  /** HTTP sessions open now, and those closed for idling or refused at the cap, since start. */
  sessions = { open: 0, expired: 0, refused: 0 };
  get inFlight() {
    return this.flying;
  }
  set inFlight(n: number) {
    otelInstruments.inFlight.add(n - this.flying);
    this.flying = n;
  }

  /** One finished call: its tool, outcome ("ok" or the error code) and duration in seconds. */
  record(tool: string, outcome: string, seconds: number) {
    otelInstruments.calls.add(1, { tool, outcome });
    otelInstruments.duration.record(seconds, { tool });
    const key = `${tool}\u0000${outcome}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    let h = this.histograms.get(tool);
    if (!h) this.histograms.set(tool, (h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 }));
    BUCKETS.forEach((b, i) => {
      if (seconds <= b) h!.counts[i]++;
    });
    h.sum += seconds;
    h.count++;
  }

  /** The text exposition format (version 0.0.4). */
  render(): string {
    const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
    const out = [
      '# HELP kubeflow_mcp_tool_calls_total Tool calls by tool and outcome (ok or the error code).',
      '# TYPE kubeflow_mcp_tool_calls_total counter',
      ...[...this.calls].map(([k, n]) => {
        const [tool, outcome] = k.split('\u0000');
        return `kubeflow_mcp_tool_calls_total{tool="${esc(tool)}",outcome="${esc(outcome)}"} ${n}`;
      }),
      '# HELP kubeflow_mcp_tool_call_duration_seconds Tool call latency.',
      '# TYPE kubeflow_mcp_tool_call_duration_seconds histogram',
    ];
    for (const [tool, h] of this.histograms) {
      BUCKETS.forEach((b, i) =>
        out.push(`kubeflow_mcp_tool_call_duration_seconds_bucket{tool="${esc(tool)}",le="${b}"} ${h.counts[i]}`),
      );
      out.push(`kubeflow_mcp_tool_call_duration_seconds_bucket{tool="${esc(tool)}",le="+Inf"} ${h.count}`);
      out.push(`kubeflow_mcp_tool_call_duration_seconds_sum{tool="${esc(tool)}"} ${h.sum}`);
      out.push(`kubeflow_mcp_tool_call_duration_seconds_count{tool="${esc(tool)}"} ${h.count}`);
    }
    out.push(
      '# HELP kubeflow_mcp_http_sessions HTTP sessions open now.',
      '# TYPE kubeflow_mcp_http_sessions gauge',
      `kubeflow_mcp_http_sessions ${this.sessions.open}`,
    );
    out.push(
      '# HELP kubeflow_mcp_http_sessions_expired_total HTTP sessions closed after sitting idle.',
      '# TYPE kubeflow_mcp_http_sessions_expired_total counter',
      `kubeflow_mcp_http_sessions_expired_total ${this.sessions.expired}`,
    );
    out.push(
      '# HELP kubeflow_mcp_http_sessions_refused_total New HTTP sessions refused at the session cap.',
      '# TYPE kubeflow_mcp_http_sessions_refused_total counter',
      `kubeflow_mcp_http_sessions_refused_total ${this.sessions.refused}`,
    );
    const mem = process.memoryUsage();
    out.push(
      '# HELP process_resident_memory_bytes Resident memory of the server process.',
      '# TYPE process_resident_memory_bytes gauge',
      `process_resident_memory_bytes ${mem.rss}`,
    );
    out.push(
      '# HELP nodejs_heap_size_used_bytes JavaScript heap in use.',
      '# TYPE nodejs_heap_size_used_bytes gauge',
      `nodejs_heap_size_used_bytes ${mem.heapUsed}`,
    );
    out.push(
      '# HELP kubeflow_mcp_tool_calls_in_flight Tool calls being answered now.',
      '# TYPE kubeflow_mcp_tool_calls_in_flight gauge',
      `kubeflow_mcp_tool_calls_in_flight ${this.inFlight}`,
    );
    return `${out.join('\n')}\n`;
  }
}

/** The process's metrics (one server process, one registry). */
export const metrics = new Metrics();
