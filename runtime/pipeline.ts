// The call pipeline every tool goes through:
// validate -> allowed? -> namespace policy -> ownership guard -> confirm gate -> execute ->
// envelope -> _meta {phase, next} -> audit log. Bad input never reaches Kubernetes.
import { GUARDS, type GuardName, type ToolDescriptor, type Validator } from '../generated/index.ts';
import { Preview, ToolError, fail, ok } from './envelope.ts';
import { checkContext, checkNamespace } from './policy.ts';
import { maskSecrets } from './logger.ts';
import { runDeclarative } from './executor.ts';
import { nextFor, tailorEnvelope } from './hints.ts';
import { callerOf } from './references.ts';
import { sharedState } from './shared-state.ts';
import { metrics } from './metrics.ts';
import { ANSWER_LIMITS, boundAnswer, nestingDepth } from './bounded.ts';
import { markError, SpanKind, traced } from './telemetry.ts';
import { OWNER_ANNOTATION } from './auth/ownership.ts';
import type { CallExtras, Handler, ServerState, ToolContext } from './context.ts';

/** What the user is asked in the confirmation dialog: one yes/no field. */
const CONFIRM_SCHEMA = {
  type: 'object',
  properties: { confirm: { type: 'boolean', title: 'Go ahead', description: 'Run it as previewed' } },
  required: ['confirm'],
} as const;

/** The preview as the user reads it: what will happen, and the previewed objects (bounded). */
function confirmationMessage(tool: ToolDescriptor<any>, p: Preview): string {
  const body = JSON.stringify(p.config, null, 1);
  return `${tool.title}: ${p.message}\n\n${body.length > 4000 ? `${body.slice(0, 4000)}\n... (${body.length - 4000} more characters)` : body}`;
}

const fieldOf = (e: { instancePath: string; keyword: string; params: Record<string, unknown> }) => {
  const base = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (e.keyword === 'required') return base ? `${base}.${e.params.missingProperty}` : String(e.params.missingProperty);
  if (e.keyword === 'additionalProperties')
    return base ? `${base}.${e.params.additionalProperty}` : String(e.params.additionalProperty);
  return base || '(input)';
};

export function validationError(tool: ToolDescriptor<any>, validate: Validator): ToolError {
  const errs = (validate.errors ?? []).filter((e) => !['oneOf', 'anyOf', 'if'].includes(e.keyword));
  const problems = (errs.length ? errs : (validate.errors ?? [])).map((e) => {
    const field = fieldOf(e);
    if (e.keyword === 'additionalProperties') return { field, message: 'is not a parameter of this tool' };
    if (e.keyword === 'enum')
      return {
        field,
        message: `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    return { field, message: e.message ?? 'is invalid' };
  });
  const first = problems[0];
  // A huge bad input can fail in thousands of places; the first few say what to fix.
  const shown = problems.slice(0, 20);
  return new ToolError(
    'VALIDATION_ERROR',
    first ? `Invalid input: '${first.field}' ${first.message}` : 'Invalid input',
    { problems: shown, ...(problems.length > shown.length ? { more_problems: problems.length - shown.length } : {}) },
    `See the input schema of ${tool.name}.`,
  );
}

/** The object a guarded tool changes must have been created through this server by this caller
 * (its ownership proof verifies); the write then carries its uid as a precondition. */
async function guardOwnership(ctx: ToolContext, guard: GuardName, name: string): Promise<ToolContext['guarded']> {
  if (ctx.bypassOwnership) return undefined;
  const g = GUARDS[guard];
  const obj = await ctx.kube.get(g.resource, name, ctx.namespace).catch((e: ToolError) => {
    if (e.code === 'RESOURCE_NOT_FOUND')
      throw new ToolError(
        'RESOURCE_NOT_FOUND',
        `${g.what} '${name}' not found in namespace '${ctx.namespace}'`,
        { [g.resource === 'trainjobs' ? 'job' : 'optimization_job']: name, namespace: ctx.namespace },
        ctx.tools.has(g.list) ? `Use ${g.list}() to see them.` : undefined,
      );
    throw new ToolError(
      e.code,
      `Cannot verify ownership of ${g.what.toLowerCase()} '${name}': ${e.message}`,
      e.details,
      'Retry, or ask a platform-admin.',
    );
  });
  if (!(await ctx.ownership.owns(obj, ctx.owner))) {
    const claimed = obj.metadata?.annotations?.[OWNER_ANNOTATION];
    const key = g.resource === 'trainjobs' ? 'job' : 'optimization_job';
    // A label or annotation copied onto a job proves nothing: only a proof made for its UID counts.
    if (claimed && claimed !== ctx.owner)
      throw new ToolError(
        'PERMISSION_DENIED',
        `${g.what} '${name}' belongs to another caller; the ${ctx.persona} persona may only change its own jobs`,
        { [key]: name, namespace: ctx.namespace, reason: 'owned_by_another_caller' },
        'Ask its owner or a platform-admin.',
      );
    throw new ToolError(
      'PERMISSION_DENIED',
      `${g.what} '${name}' was not created by you through this MCP server; the ${ctx.persona} persona may only change jobs it created`,
      { [key]: name, namespace: ctx.namespace, reason: 'not_created_by_mcp' },
      "Ask a platform-admin, or manage the job with its owner's tools.",
    );
  }
  return { resource: g.resource, name, uid: obj.metadata.uid };
}

const validators = new WeakMap<ToolDescriptor<any>, Validator>();
const handlers = new WeakMap<ToolDescriptor<any>, Handler>();

/** Validators and escape hatches are imported on a tool's first call and kept. */
async function once<T>(
  cache: WeakMap<ToolDescriptor<any>, T>,
  tool: ToolDescriptor<any>,
  load: () => Promise<T>,
): Promise<T> {
  let v = cache.get(tool);
  if (v === undefined) cache.set(tool, (v = await load()));
  return v;
}

/** The calls running now, each with a way to answer it at once (see cancelRunning). */
const running = new Set<() => void>();

/** Answers every running call as cancelled (a shutdown whose grace is over); returns how many. */
export function cancelRunning(): number {
  const n = running.size;
  for (const cancel of [...running]) cancel();
  return n;
}

/** Runs one tool call and returns the envelope (never throws), in a trace span of its own. */
export function runTool(
  state: ServerState,
  name: string,
  rawArgs: unknown,
  extras: CallExtras = {},
): Promise<Record<string, unknown>> {
  return traced(
    `tools/call ${name}`,
    SpanKind.SERVER,
    { 'mcp.tool.name': name, 'kubeflow_mcp.persona': state.persona },
    async (span) => {
      let cancel!: () => void;
      const cancelled = new Promise<Record<string, unknown>>((resolve) => {
        cancel = () =>
          resolve({
            ...fail(
              new ToolError(
                'CANCELLED',
                `The server is shutting down; ${name} was stopped before it finished`,
                undefined,
                'Check the outcome with a read tool once the server is back, then retry if needed.',
              ),
            ),
            _meta: { phase: state.tools.get(name)?.phase },
          });
      });
      running.add(cancel);
      const result = await Promise.race([runToolUntraced(state, name, rawArgs, extras), cancelled]).finally(() =>
        running.delete(cancel),
      );
      span.setAttribute(
        'kubeflow_mcp.outcome',
        result.success === true ? 'ok' : result.status === 'preview' ? 'preview' : String(result.error_code),
      );
      if (result.success !== true && result.status !== 'preview') markError(span, String(result.error_code));
      return result;
    },
  );
}

async function runToolUntraced(
  state: ServerState,
  name: string,
  rawArgs: unknown,
  extras: CallExtras,
): Promise<Record<string, unknown>> {
  const started = performance.now();
  metrics.inFlight++;
  const tool = state.tools.get(name);
  let result: Record<string, unknown>;
  let args: Record<string, any> = {};
  try {
    // Before anything else, so neither good nor bad calls beyond the limit cost the cluster anything.
    const limiter = state.limiter;
    const wait = limiter?.take(extras.rateKey ?? extras.caller ?? 'stdio', state.clock.now(), sharedState()?.replicas);
    if (wait !== undefined)
      throw new ToolError(
        'RATE_LIMITED',
        `Too many calls: this client may make ${limiter!.rate} a second (bursts of ${limiter!.burst}${(sharedState()?.replicas ?? 1) > 1 ? `, across ${sharedState()!.replicas} replicas` : ''})`,
        { retry_after_seconds: wait },
        `Retry after ${wait} s.`,
      );
    if (!tool) {
      const exists = state.allTools.some((t) => t.name === name);
      throw new ToolError(
        exists ? 'PERMISSION_DENIED' : 'VALIDATION_ERROR',
        exists
          ? `Tool '${name}' is not available to the ${state.persona} persona or is blocked by the server policy`
          : `Unknown tool '${name}'`,
        undefined,
        'List the tools to see what this server offers.',
      );
    }
    // Before anything walks the arguments recursively (the copy, the validator, the audit mask).
    if (nestingDepth(rawArgs, ANSWER_LIMITS.depth) > ANSWER_LIMITS.depth) {
      throw new ToolError(
        'VALIDATION_ERROR',
        `Invalid input: the arguments nest deeper than ${ANSWER_LIMITS.depth} levels`,
        { max_depth: ANSWER_LIMITS.depth },
        `See the input schema of ${name}.`,
      );
    }
    args = structuredClone(rawArgs ?? {}) as Record<string, any>;
    const validate = await once(validators, tool, tool.validator);
    if (typeof args !== 'object' || Array.isArray(args) || !validate(args)) throw validationError(tool, validate);
    // A call may name another kubeconfig context, if the policy allows it; its client (as this
    // caller, when impersonating) then serves the whole call, default namespace included.
    let kube = state.kube;
    if (typeof args.context === 'string') {
      const own = await state.kube.contextName().catch(() => '');
      checkContext(state.policy, args.context, own);
      if (args.context !== own) kube = state.kubeFor(args.context);
    }
    let namespace = '';
    if (tool.namespaced) {
      namespace = args.namespace ?? (await kube.defaultNamespace().catch(() => 'default'));
      checkNamespace(state.policy, namespace);
    }
    const signal = extras.signal ?? new AbortController().signal;
    const owner = extras.principal ?? (await state.localOwner());
    /** Runs the tool once: a preview (dry runs only) unless `confirmed`. */
    const execute = async (confirmed: boolean) => {
      const ctx: ToolContext = {
        ...state,
        tool,
        namespace,
        confirmed,
        caller: extras.caller,
        owner,
        principal: extras.principal,
        // Until the user confirms, the cluster can only be asked for dry runs.
        kube: tool.confirm && !confirmed ? kube.withSignal(signal).dryRunOnly() : kube.withSignal(signal),
        signal,
        progress: extras.progress ?? (async () => {}),
        namespaceAllowed: (ns) => {
          try {
            checkNamespace(state.policy, ns);
            return true;
          } catch {
            return false;
          }
        },
      };
      if (tool.guard) ctx.guarded = await guardOwnership(ctx, tool.guard, args.name);
      let out: unknown;
      if (tool.custom) {
        out = await (await once(handlers, tool, async () => (await state.handlers[tool.name]()).default))(args, ctx);
      } else out = await runDeclarative(tool, args, ctx);
      if (tool.confirm && !confirmed && !(out instanceof Preview))
        throw new ToolError('INTERNAL_ERROR', `${name} must preview before it executes`);
      return out;
    };
    let out: unknown;
    if (tool.confirm && extras.elicit) {
      // The client can ask its user: the user, not the agent's confirmed=true, decides. They see
      // the preview; only their accept runs the tool for real.
      const preview = (await execute(false)) as Preview;
      const answer = await extras.elicit(confirmationMessage(tool, preview), CONFIRM_SCHEMA);
      if (answer.action === 'pending') out = preview;
      else if (answer.action !== 'accept' || answer.content?.confirm !== true) {
        throw new ToolError(
          'CANCELLED',
          `The user did not approve ${name} (${answer.action === 'accept' ? 'left unconfirmed' : answer.action}); nothing was changed`,
          { user_action: answer.action },
          'Ask the user what to change, then call again.',
        );
      } else out = await execute(true);
    } else {
      const confirmed = args.confirmed === true;
      if (tool.confirm && confirmed && state.policy.policy?.human_confirmation === 'required') {
        throw new ToolError(
          'PERMISSION_DENIED',
          `${name} needs a person's approval, and this client cannot ask for it (no MCP elicitation); the server policy does not accept confirmed=true instead`,
          { reason: 'human_confirmation_required' },
          'Use a client that supports elicitation, or ask an administrator to make the change.',
        );
      }
      out = await execute(confirmed);
    }
    if (out instanceof Preview) {
      // Advanced inputs are not in tools/list; the preview is where the agent learns of them.
      const more = Object.entries(tool.moreOptions).filter(([k]) => args[k] === undefined);
      result = {
        ...out.toJSON(),
        ...(more.length ? { more_options: Object.fromEntries(more) } : {}),
        _meta: {
          phase: tool.phase,
          next: `Show this preview to the user; call ${name} again with confirmed=true only after they approve${more.length ? ' (more_options lists further inputs it accepts)' : ''}`,
        },
      };
    } else {
      result = { ...ok(out), _meta: { phase: tool.phase, next: await nextFor(tool, out, args) } };
    }
  } catch (e) {
    const err =
      e instanceof ToolError
        ? e
        : new ToolError('INTERNAL_ERROR', `Unexpected error in ${name}: ${(e as Error)?.message ?? e}`);
    if (!(e instanceof ToolError)) state.log.error({ err: (e as Error)?.stack }, `tool ${name} crashed`);
    // Error text can quote request bodies or server messages; known secret values never leave.
    result = maskSecrets(fail(err), false);
  }
  tailorEnvelope(result, callerOf(state, tool?.name));
  result = boundAnswer(
    result,
    result.success === true || result.status === 'preview' ? ANSWER_LIMITS.answer : ANSWER_LIMITS.error,
  );
  // Parameters the tool does not have (a misspelt hf_tokn, say) are rejected, and their values are
  // never logged: only the names are.
  const known = new Set(Object.keys((tool?.inputSchema as any)?.properties ?? {}));
  const logged =
    args && typeof args === 'object' && !Array.isArray(args)
      ? Object.fromEntries(Object.entries(args).map(([k, v]) => [k, known.has(k) ? v : '***']))
      : args;
  const entry = {
    success: result.success === true,
    preview: result.status === 'preview',
    error_code: result.error_code,
    caller: extras.caller,
    duration_ms: Math.round((performance.now() - started) * 100) / 100,
  };
  metrics.inFlight--;
  metrics.record(
    tool ? name : '(unknown)',
    result.success === true || result.status === 'preview' ? 'ok' : String(result.error_code),
    (performance.now() - started) / 1000,
  );
  // Queued only: the logger masks, truncates and writes it after the answer is on its way.
  state.log.info({ audit: true, tool: name, parameters: logged, ...entry }, 'tool_call');
  return result;
}
