// OpenTelemetry traces (a span per tool call and, inside it, one per Kubernetes request) and
// metrics (the same calls, durations and in-flight count as /metrics). Off unless
// an OTLP endpoint is configured the standard way (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; OTEL_SDK_DISABLED=true turns it off again); until then the
// API's no-op tracer costs next to nothing and the SDK is never loaded.
import { metrics, SpanKind, SpanStatusCode, trace, type Meter, type Span } from '@opentelemetry/api';
import { defaultOf, environment, envText, type Env } from './settings.ts';

export const tracer = trace.getTracer('kubeflow-mcp');
const instrumentsOf = (meter: Meter) => ({
  calls: meter.createCounter('kubeflow_mcp.tool.calls', {
    description: 'Tool calls by tool and outcome (ok or the error code)',
  }),
  duration: meter.createHistogram('kubeflow_mcp.tool.duration', { description: 'Tool call latency', unit: 's' }),
  inFlight: meter.createUpDownCounter('kubeflow_mcp.tool.in_flight', { description: 'Tool calls being answered now' }),
});
/** No-ops until startTelemetry registers a meter provider (the metrics API has no proxy meter, so
 * they are made again then). */
export let otelInstruments = instrumentsOf(metrics.getMeter('kubeflow-mcp'));
export { SpanKind };

/** Runs `fn` inside a span; an exception ends the span as an error (and is thrown on). */
export function traced<T>(
  name: string,
  kind: SpanKind,
  attributes: Record<string, string | number | boolean>,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (e) {
      span.recordException(e as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error)?.message });
      throw e;
    } finally {
      span.end();
    }
  });
}

export const markError = (span: Span, message: string) => span.setStatus({ code: SpanStatusCode.ERROR, message });

/** Starts exporting spans over OTLP/HTTP when configured; returns how to flush and stop, or undefined. */
export async function startTelemetry(
  version: string,
  env: Env = environment(),
): Promise<(() => Promise<void>) | undefined> {
  if (
    envText('otelSdkDisabled', env) === 'true' ||
    !(envText('otelEndpoint', env) || envText('otelTracesEndpoint', env))
  )
    return undefined;
  // CommonJS packages: Node's ESM loader may see only their default export.
  const named = <T>(m: T): T => ({ ...(m as any).default, ...m });
  const [
    { NodeTracerProvider, BatchSpanProcessor },
    { OTLPTraceExporter },
    { resourceFromAttributes },
    { MeterProvider, PeriodicExportingMetricReader },
    { OTLPMetricExporter },
  ] = (
    await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/sdk-metrics'),
      import('@opentelemetry/exporter-metrics-otlp-http'),
    ])
  ).map(named) as unknown as [
    typeof import('@opentelemetry/sdk-trace-node'),
    typeof import('@opentelemetry/exporter-trace-otlp-http'),
    typeof import('@opentelemetry/resources'),
    typeof import('@opentelemetry/sdk-metrics'),
    typeof import('@opentelemetry/exporter-metrics-otlp-http'),
  ];
  const resource = resourceFromAttributes({
    'service.name': envText('otelServiceName', env) ?? defaultOf('otelServiceName'),
    'service.version': version,
  });
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 500 })],
  });
  provider.register();
  const meters = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter(),
        exportIntervalMillis: Number(envText('otelMetricExportInterval', env) ?? defaultOf('otelMetricExportInterval')),
      }),
    ],
  });
  metrics.setGlobalMeterProvider(meters);
  otelInstruments = instrumentsOf(metrics.getMeter('kubeflow-mcp'));
  return async () => {
    await Promise.all([provider.shutdown(), meters.shutdown()]);
  };
}
