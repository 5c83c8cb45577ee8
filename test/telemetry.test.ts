// OpenTelemetry: with an OTLP endpoint configured, each tool call is a span and each Kubernetes
// request a child span of it, exported over OTLP/HTTP to a collector (here a plain HTTP server
// that keeps what it receives); without one, nothing is sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { call, connect } from './helpers/mcp.ts';

let collector: http.Server;
let endpoint = '';
const received: any[] = [];

beforeAll(async () => {
  collector = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      received.push({ path: req.url, type: req.headers['content-type'], body: JSON.parse(body) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
});
afterAll(() => {
  collector?.close();
});

const spans = () =>
  received
    .filter((r) => r.path === '/v1/traces')
    .flatMap((r) =>
      r.body.resourceSpans.flatMap((rs: any) =>
        rs.scopeSpans.flatMap((ss: any) =>
          ss.spans.map((s: any) => ({
            ...s,
            service: rs.resource.attributes.find((a: any) => a.key === 'service.name')?.value.stringValue,
          })),
        ),
      ),
    );
const attr = (s: any, key: string) => {
  const v = s.attributes.find((a: any) => a.key === key)?.value;
  return v?.stringValue ?? v?.intValue ?? v?.boolValue;
};

describe('traces', () => {
  it('sends nothing without an OTLP endpoint', async () => {
    const c = await connect(['--sandbox', '--persona', 'readonly', '--time-scale', '0.02']);
    await call(c.client, 'list_training_jobs');
    await c.close();
    await new Promise((r) => setTimeout(r, 800));
    expect(received).toEqual([]);
  });

  it('exports a span per tool call with the Kubernetes requests inside it', async () => {
    const c = await connect(['--sandbox', '--persona', 'readonly', '--time-scale', '0.02'], {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_SERVICE_NAME: 'mcp-under-test',
      OTEL_METRIC_EXPORT_INTERVAL: '300',
    });
    expect((await call(c.client, 'list_training_jobs')).success).toBe(true);
    expect((await call(c.client, 'get_training_job', { name: 'no-such-job' })).error_code).toBe('RESOURCE_NOT_FOUND');
    await c.close();
    for (let i = 0; i < 50 && !spans().some((s) => s.name === 'tools/call get_training_job'); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(received.map((r) => r.path)).toContain('/v1/traces');
    const all = spans();
    const list = all.find((s) => s.name === 'tools/call list_training_jobs');
    expect(list).toBeDefined();
    expect(list.service).toBe('mcp-under-test');
    expect(attr(list, 'mcp.tool.name')).toBe('list_training_jobs');
    expect(attr(list, 'kubeflow_mcp.outcome')).toBe('ok');
    const children = all.filter((s) => s.parentSpanId === list.spanId);
    expect(children.map((s) => s.name)).toContain('k8s list trainjobs');
    expect(children.every((s) => s.traceId === list.traceId)).toBe(true);
    const get = all.find((s) => s.name === 'tools/call get_training_job');
    expect(attr(get, 'kubeflow_mcp.outcome')).toBe('RESOURCE_NOT_FOUND');
    expect(get.status.code).toBe(2); // ERROR
    const getRequest = all.find((s) => s.parentSpanId === get.spanId && s.name === 'k8s get trainjobs');
    expect(attr(getRequest, 'k8s.request')).toBe('get trainjobs/no-such-job');
    expect(getRequest.status.code).toBe(2);
  });

  it('exports the call metrics over OTLP too', async () => {
    const points = received
      .filter((r) => r.path === '/v1/metrics')
      .flatMap((r) => r.body.resourceMetrics.flatMap((rm: any) => rm.scopeMetrics.flatMap((sm: any) => sm.metrics)));
    const calls = points.filter((m: any) => m.name === 'kubeflow_mcp.tool.calls').flatMap((m: any) => m.sum.dataPoints);
    const of = (tool: string, outcome: string) =>
      calls
        .filter((p: any) => attr(p, 'tool') === tool && attr(p, 'outcome') === outcome)
        .map((p: any) => Number(p.asInt ?? p.asDouble));
    expect(Math.max(...of('list_training_jobs', 'ok'))).toBe(1);
    expect(Math.max(...of('get_training_job', 'RESOURCE_NOT_FOUND'))).toBe(1);
    expect(points.some((m: any) => m.name === 'kubeflow_mcp.tool.duration' && m.histogram.dataPoints.length)).toBe(
      true,
    );
  });
});
