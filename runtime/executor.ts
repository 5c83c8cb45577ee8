// Runs a declarative tool: its steps in order (Kubernetes reads and writes, HTTP requests, calls of
// the typed functions in calls.ts, computed values and checked failures), then its output. Before
// confirmation every write is a server-side dry run and the preview is answered instead of the
// output. Every namespace a step touches passes the namespace policy, whatever the spec says.
import {
  CATALOGUE,
  HTTP_SERVICES,
  type CallName,
  type Operation,
  type Step,
  type ToolDescriptor,
} from '../generated/index.ts';
import { CALLS } from './calls.ts';
import { Preview, ToolError, type ErrorCode } from './envelope.ts';
import type { ToolContext } from './context.ts';
import { evaluate, fromCel, loadCel, optional, plainEvaluator, toCel, toCelInPlace } from './cel/evaluate.ts';
import { allowedContexts, checkNamespace } from './policy.ts';
import { serviceRequest } from './service-endpoints.ts';
import { setting } from './settings.ts';

const MAX_FOR_EACH = 20;
const REDACT = new Map(CATALOGUE.filter((t) => t.redact).map((t) => [t.plural, t.redact!]));

/** Masks the values of a sensitive resource's fields (Secret data) in an object or a list of them. */
function redact(resource: string, value: any): any {
  const fields = REDACT.get(resource);
  if (!fields || !value || typeof value !== 'object') return value;
  const one = (o: any) => {
    if (!o || typeof o !== 'object') return o;
    const copy = { ...o };
    for (const f of fields)
      if (copy[f] && typeof copy[f] === 'object')
        copy[f] = Object.fromEntries(Object.keys(copy[f]).map((k) => [k, '***']));
    return copy;
  };
  return Array.isArray(value.items) ? { ...value, items: value.items.map(one) } : one(value);
}

/** server.context and server.contexts: the kubeconfig's contexts, marked as the policy allows them
 * (the server's own context always is); none when there is no kubeconfig. */
async function contextsOf(ctx: ToolContext): Promise<{ context?: string; contexts?: unknown[] }> {
  const all = await ctx.kube.contexts().catch(() => []);
  const own = all.find((c) => c.current)?.name ?? '';
  const allowed = new Set([own, ...allowedContexts(ctx.policy)]);
  return { context: own, contexts: all.map((c) => ({ ...c, allowed: allowed.has(c.name) })) };
}

/** The `server` fields a tool's expressions read (the generator lists them in serverFields), and
 * only those: the kubeconfig walk behind contexts is paid for by list_contexts alone. */
async function serverOf(ctx: ToolContext): Promise<Record<string, unknown>> {
  const read = new Set(ctx.tool.serverFields);
  const allowed = ctx.policy.policy?.namespaces;
  const tools = [...ctx.tools.values()];
  const values: Record<string, () => unknown> = {
    persona: () => ctx.persona,
    version: () => ctx.version,
    controllerNamespace: () => setting('controllerNamespace'),
    namespacesRestricted: () => !!allowed,
    allowedNamespaces: () => allowed ?? [],
    tools: () => tools.length,
    offline_tools: () => tools.filter((t) => !t.annotations.openWorldHint).map((t) => t.name),
    uptime_seconds: () => Math.floor((ctx.clock.now() - ctx.startedAt) / 1000),
    time: () => new Date().toISOString(),
  };
  const server: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) if (read.has(k)) server[k] = v();
  if (read.has('context') || read.has('contexts')) Object.assign(server, await contextsOf(ctx));
  return server;
}

export async function runDeclarative(
  tool: ToolDescriptor<any>,
  input: Record<string, any>,
  ctx: ToolContext,
): Promise<unknown> {
  const op = tool.operation as Operation;
  await loadCel();
  const vars: Record<string, unknown> = { input: toCel(input), ns: ctx.namespace, server: toCel(await serverOf(ctx)) };
  const scope = {
    name: tool.name,
    optionals: op.steps.filter((s) => (s.when !== undefined || s.optional) && s.fail === undefined).map((s) => s.id),
  };
  const ev = (expr: string, where: string, extra: Record<string, unknown> = {}) =>
    evaluate(scope, expr, { ...vars, ...extra }, `${tool.name} ${where}`);
  const str = (v: unknown) => (v === undefined ? undefined : String(fromCel(v)));
  const num = (v: unknown) => (v === undefined ? undefined : Number(fromCel(v)));
  /** Slot value; an empty optional means "leave this option out". */
  const slot = (s: Step, key: keyof Step, extra: Record<string, unknown>) => {
    const expr = s[key];
    if (typeof expr !== 'string') return undefined;
    const v = ev(expr, `steps.${s.id}.${String(key)}`, extra);
    return optional.is(v) ? (v.hasValue() ? v.value() : undefined) : v;
  };

  /** A map of expressions (an http step's params or query); empty optionals are left out. */
  const mapSlots = (m: Record<string, string> | undefined, extra: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, expr] of Object.entries(m ?? {})) {
      const v = ev(expr, `steps.${k}`, extra);
      if (optional.is(v)) {
        if (v.hasValue()) out[k] = fromCel(v.value());
      } else out[k] = fromCel(v);
    }
    return out;
  };
  const runSteps = async () => {
    for (const s of op.steps) {
      const conditional = s.when !== undefined || s.optional;
      if (s.when !== undefined && ev(s.when, `steps.${s.id}.when`) !== true) {
        vars[s.id] = optional.none();
        continue;
      }
      if (s.fail !== undefined) {
        const details =
          s.details === undefined
            ? undefined
            : (fromCel(ev(s.details, `steps.${s.id}.details`)) as Record<string, unknown>);
        throw new ToolError(
          (s.code ?? 'VALIDATION_ERROR') as ErrorCode,
          String(ev(s.fail, `steps.${s.id}.fail`)),
          details,
          s.hint,
        );
      }
      if (s.let !== undefined) {
        vars[s.id] = conditional ? optional.of(ev(s.let, `steps.${s.id}`)) : ev(s.let, `steps.${s.id}`);
        continue;
      }
      const runOnce = async (extra: Record<string, unknown>) => {
        try {
          if (s.tool !== undefined) return toCel(await runTool(s.tool, mapSlots(s.with, extra), ctx));
          if (s.call !== undefined)
            return toCel(
              await (
                CALLS[s.call as CallName] as (args: Record<string, unknown>, ctx: ToolContext) => Promise<unknown>
              )(mapSlots(s.with, extra), ctx),
            );
          if (s.http !== undefined)
            return toCel(
              await httpStep(
                s,
                ctx,
                mapSlots(s.params, extra),
                mapSlots(s.query, extra),
                s.body === undefined ? undefined : fromCel(slot(s, 'body', extra)),
              ),
            );
          const resource = (s.get ?? s.list ?? s.create ?? s.patch ?? s.delete ?? s.logs)!;
          // Projected rows are CEL values already, made when each object arrived.
          if (s.list !== undefined && s.project)
            return { items: await projectedList(tool, s, ctx, (k) => slot(s, k, extra), str), metadata: {} };
          return toCel(redact(resource, await kubeStep(s, ctx, (k) => slot(s, k, extra), str, num)));
        } catch (e) {
          if (e instanceof ToolError && e.code === 'RESOURCE_NOT_FOUND') {
            if (s.optional) return undefined;
            if (s.notFound)
              throw new ToolError(
                'RESOURCE_NOT_FOUND',
                String(ev(s.notFound.message, `steps.${s.id}.notFound`, extra)),
                e.details,
                s.notFound.hint,
              );
          }
          throw e;
        }
      };
      let value: unknown;
      if (s.forEach !== undefined) {
        const items = ev(s.forEach, `steps.${s.id}.forEach`) as unknown[];
        if (items.length > MAX_FOR_EACH)
          throw new ToolError(
            'VALIDATION_ERROR',
            `${tool.name}: ${items.length} items to visit; at most ${MAX_FOR_EACH} per call`,
          );
        const results = await Promise.all(items.map((each) => runOnce({ each })));
        // With a key, the results by key instead of by position.
        value =
          s.key === undefined
            ? results
            : Object.fromEntries(
                items.map((each, i) => [String(ev(s.key!, `steps.${s.id}.key`, { each })), results[i]]),
              );
      } else value = await runOnce({});
      vars[s.id] = conditional ? (value === undefined ? optional.none() : optional.of(value)) : value;
    }
  };

  if (!op.poll) await runSteps();
  else {
    // Waiting, said in the spec: the steps run each round until `until` holds or time is up.
    const p = op.poll;
    const started = ctx.clock.now();
    const deadline = started + Number(fromCel(ev(p.timeout, 'poll.timeout'))) * 1000;
    const every = Number(fromCel(ev(p.every, 'poll.every'))) * 1000;
    let polls = 0,
      reported = -Infinity,
      timedOut = false;
    for (;;) {
      if (ctx.signal.aborted)
        throw new ToolError('CANCELLED', `${tool.name}: stopped waiting, the request was cancelled`);
      await runSteps();
      polls++;
      if (p.progress) {
        // MCP progress must increase: a round that saw none sends nothing.
        const value = Number(fromCel(ev(p.progress.value, 'poll.progress.value')));
        if (value > reported) {
          reported = value;
          const total = p.progress.total ? Number(fromCel(ev(p.progress.total, 'poll.progress.total'))) : undefined;
          await ctx.progress(value, total, String(ev(p.progress.message, 'poll.progress.message'))).catch(() => {});
        }
      }
      if (ev(p.until, 'poll.until') === true) break;
      if (ctx.clock.now() >= deadline) {
        timedOut = true;
        break;
      }
      await ctx.clock.sleep(Math.min(every, Math.max(0, deadline - ctx.clock.now())), ctx.signal);
    }
    vars.poll = {
      timed_out: timedOut,
      polls: BigInt(polls),
      waited_seconds: Math.round((ctx.clock.now() - started) / 100) / 10,
    };
  }

  const fields = (spec: Record<string, string>, where: string) =>
    fromCel(Object.fromEntries(Object.entries(spec).map(([k, e]) => [k, ev(e, `${where}.${k}`)])));
  if (op.preview && tool.confirm && !ctx.confirmed)
    return new Preview(
      String(ev(op.preview.message, 'preview.message')),
      fields(op.preview.fields, 'preview') as Record<string, unknown>,
    );
  return typeof op.output === 'string' ? fromCel(ev(op.output, 'output')) : fields(op.output, 'output');
}

/**
 * A tool step: another (read-only) tool run as its caller would, with the caller's persona, policy
 * and namespace checks; its input validated and defaulted by its own validator. The generator
 * checked that every persona of the calling tool may run it; the policy may still have removed it.
 */
async function runTool(name: string, args: Record<string, unknown>, ctx: ToolContext): Promise<unknown> {
  const tool = ctx.tools.get(name);
  if (!tool)
    throw new ToolError(
      'PERMISSION_DENIED',
      `${ctx.tool.name} runs ${name}, which this server does not offer to ${ctx.persona} (the policy removed it)`,
    );
  const validate = await tool.validator();
  if (!validate(args))
    throw new ToolError(
      'INTERNAL_ERROR',
      `${ctx.tool.name} gave ${name} an input it refuses: ${(validate.errors ?? []).map((e) => `${e.instancePath || '(input)'} ${e.message}`).join('; ')}`,
    );
  const namespace = typeof args.namespace === 'string' ? args.namespace : ctx.namespace;
  checkNamespace(ctx.policy, namespace);
  const inner: ToolContext = { ...ctx, tool, namespace };
  if (!tool.custom) return runDeclarative(tool, args, inner);
  const handler = (await ctx.handlers[name]()).default;
  return handler(args, inner);
}

/** A list step's rows: each object projected once (CEL over `item`), then kept current by a watch. */
async function projectedList(
  tool: ToolDescriptor<any>,
  s: Step,
  ctx: ToolContext,
  slot: (k: keyof Step) => unknown,
  str: (v: unknown) => string | undefined,
): Promise<unknown[]> {
  const resource = s.list!;
  const fields = Object.entries(s.project!);
  const scope = { name: `${tool.name}.${s.id}.project`, optionals: [] };
  const evaluators = fields.map(
    ([k, expr]) => [k, plainEvaluator(scope, expr, `${tool.name} steps.${s.id}.project.${k}`)] as const,
  );
  const projection = {
    key: `${tool.name}.${s.id}`,
    project: (obj: Record<string, any>) => {
      // The object is this projection's own (just parsed from a list page or a watch event).
      // Fields that are paths (item.metadata.name) are read from it as it is; it is converted to
      // CEL values (where it lies) only if some field needs CEL itself.
      const plain = redact(resource, obj);
      let item: unknown;
      const celVars = () => ({ item: (item ??= toCelInPlace(plain)) });
      const vars = { item: plain };
      const row: Record<string, unknown> = {};
      for (const [k, run] of evaluators) {
        const v = run(vars, celVars);
        if (!optional.is(v)) row[k] = v;
        else if (v.hasValue()) row[k] = v.value();
      }
      return row;
    },
  };
  const q = { labelSelector: str(slot('labelSelector')), fieldSelector: str(slot('fieldSelector')) };
  if (!ctx.kube.isNamespaced(resource)) return ctx.kube.listProjected(resource, q, projection);
  if (!s.allNamespaces) {
    const ns = str(slot('namespace')) ?? ctx.namespace;
    checkNamespace(ctx.policy, ns);
    return ctx.kube.listProjected(resource, { ...q, namespace: ns }, projection);
  }
  const allowed = ctx.policy.policy?.namespaces;
  if (!allowed) return ctx.kube.listProjected(resource, q, projection);
  const lists = await Promise.all(
    [...allowed].sort().map((n) => ctx.kube.listProjected(resource, { ...q, namespace: n }, projection)),
  );
  return lists.flat();
}

/**
 * One request of an http step to a service of the catalogue, sent by service-endpoints.ts (through
 * the API server's proxy with the caller's own client, or to the configured URL). A changing
 * request is not sent before confirmation: its value is then its body.
 */
async function httpStep(
  s: Step,
  ctx: ToolContext,
  params: Record<string, unknown>,
  queryValues: Record<string, unknown>,
  body: unknown,
) {
  const svc = HTTP_SERVICES[s.http!];
  if (!svc) throw new ToolError('INTERNAL_ERROR', `unknown service ${s.http}; services come from specs/catalogue.yaml`);
  const method = s.method ?? 'GET';
  // Only a confirm-gated tool previews: its changing requests wait for confirmed=true (and may
  // name ids that exist only once earlier requests ran).
  if (method !== 'GET' && ctx.tool.confirm && !ctx.confirmed) return body ?? {};
  const path = s.path!.replace(/\{([^}]+)\}/g, (_m, k: string) => {
    const v = String(params[k] ?? '');
    if (!v || v === '.' || v === '..') throw new ToolError('VALIDATION_ERROR', `${s.http} ${s.path}: ${k} is empty`);
    return encodeURIComponent(v);
  });
  const query = Object.fromEntries(Object.entries(queryValues).map(([k, v]) => [k, String(v)]));
  return serviceRequest(s.http!, svc, ctx, method as 'GET' | 'POST' | 'PATCH', path, query, body);
}

/** One Kubernetes call of a step. Writes are dry runs until the user confirmed. */
async function kubeStep(
  s: Step,
  ctx: ToolContext,
  slot: (k: keyof Step) => unknown,
  str: (v: unknown) => string | undefined,
  num: (v: unknown) => number | undefined,
) {
  const resource = (s.get ?? s.list ?? s.create ?? s.patch ?? s.delete ?? s.logs)!;
  const scoped = ctx.kube.isNamespaced(resource);
  const ns = scoped ? (str(slot('namespace')) ?? ctx.namespace) : undefined;
  if (ns !== undefined && !s.allNamespaces) checkNamespace(ctx.policy, ns);
  const name = str(slot('name'));
  // Only a confirm-gated tool previews; one with a written waiver writes at once.
  const dryRun = ctx.tool.confirm && !ctx.confirmed;
  if (s.get !== undefined) return ctx.kube.get(resource, name!, ns);
  if (s.list !== undefined) {
    const opts = {
      labelSelector: str(slot('labelSelector')),
      fieldSelector: str(slot('fieldSelector')),
      limit: num(slot('limit')),
      continueToken: str(slot('continue')),
    };
    if (s.allNamespaces) {
      // A restricted policy lists each allowed namespace; otherwise one cluster-wide request.
      const allowed = ctx.policy.policy?.namespaces;
      if (!allowed)
        return ctx.kube.list(resource, opts).then((r) => ({ items: r.items, metadata: { continue: r.continueToken } }));
      const lists = await Promise.all(allowed.map((n) => ctx.kube.list(resource, { ...opts, namespace: n })));
      return { items: lists.flatMap((l) => l.items), metadata: {} };
    }
    const r = await ctx.kube.list(resource, { ...opts, namespace: ns });
    return {
      items: r.items,
      metadata: {
        ...(r.continueToken ? { continue: r.continueToken } : {}),
        ...(r.remaining !== undefined ? { remainingItemCount: r.remaining } : {}),
      },
    };
  }
  // Writes to the object the ownership guard checked apply only to that very object (its uid).
  const uid =
    ctx.guarded && ctx.guarded.resource === resource && ctx.guarded.name === name ? ctx.guarded.uid : undefined;
  if (s.create !== undefined) return ctx.kube.create(resource, fromCel(slot('body')) as any, ns, dryRun);
  if (s.patch !== undefined)
    return ctx.kube.patch(resource, name!, fromCel(slot('body')) as any, ns, dryRun, s.patchType ?? 'merge', uid);
  if (s.delete !== undefined) return ctx.kube.remove(resource, name!, ns, dryRun, uid);
  const previous = slot('previous');
  return ctx.kube.podLog(ns!, name!, {
    container: str(slot('container')),
    tailLines: num(slot('tailLines')),
    sinceSeconds: num(slot('sinceSeconds')),
    limitBytes: num(slot('limitBytes')),
    previous: previous === true,
  });
}
