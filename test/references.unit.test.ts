// References to tools are resolved per caller: no instruction line, guide, prompt, hint, next
// step, fix or recommendation offers a tool the caller cannot call (persona, policy, client
// modules), nor, after a success, the tool that has just answered. The sweep walks every persona
// (built-in, and policy personas) x instruction tier x mode x module set, every guide and prompt,
// every structured shape a handler may answer with, and every tool example reachable in-process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EXAMPLES_FIXTURE,
  PERSONAS,
  PROMPTS,
  RESOURCES,
  TOOLS,
  toolsIn,
  type ToolDescriptor,
} from '../generated/index.ts';
import { instructionsFor } from '../runtime/listing.ts';
import { selectTools } from '../runtime/server.ts';
import { callerOf, guidesFor, promptsFor, resolveEnvelope, unavailableBecause } from '../runtime/references.ts';
import { nextFor } from '../runtime/hints.ts';
import { runTool } from '../runtime/pipeline.ts';
import type { ServerState } from '../runtime/context.ts';
import type { PolicyFile } from '../runtime/policy.ts';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { typeNamed } from '../sandbox/resources.ts';
import { inProcessState } from './helpers/in-process.ts';
import { claimFixtureJobs } from './helpers/ownership.ts';

const NAMES = TOOLS.map((t) => t.name);
const BY_NAME = new Map(TOOLS.map((t) => [t.name, t]));

/** Who is swept: every built-in persona, and policy variants that take tools away in other ways. */
const CALLERS: Array<{ label: string; persona: string; policy: PolicyFile }> = [
  ...Object.keys(PERSONAS).map((p) => ({ label: p, persona: p, policy: {} })),
  {
    label: 'reviewer (policy persona)',
    persona: 'reviewer',
    policy: { personas: { reviewer: { inherit: 'readonly', tools: ['wait_for_training'] } } },
  },
  {
    label: 'ml-engineer, destructive denied',
    persona: 'ml-engineer',
    policy: { policy: { deny: ['risk:destructive'] } },
  },
  { label: 'platform-admin, read-only policy', persona: 'platform-admin', policy: { policy: { read_only: true } } },
];
const MODULE_SETS = [['trainer'], ['trainer', 'optimizer']];
const TIERS = ['full', 'compact', 'minimal'] as const;
const MODES = ['full', 'progressive', 'semantic'] as const;

const SWEEP = CALLERS.flatMap((c) =>
  MODULE_SETS.map((clients) => ({
    ...c,
    clients,
    tools: selectTools({ persona: c.persona, clients, policy: c.policy }),
  })),
);

/** Keys whose values offer something to do; everything inside them is checked. */
const OFFER_KEYS = new Set([
  'hint',
  'next',
  'next_steps',
  'recommendations',
  'recommendation',
  'fix',
  'fixes',
  'tool_selection',
  'alternatives',
  'suggestion',
  'suggestions',
]);
const TOOL_KEYS = new Set(['tool', 'recommended', 'base_tool']);

/** Every tool an envelope offers: named in an offer's text, or in a structured field of one. */
function offered(env: any): string[] {
  const out: string[] = [];
  const inside = (v: unknown, key = ''): void => {
    if (typeof v === 'string') {
      out.push(...toolsIn(v, NAMES));
      if (TOOL_KEYS.has(key) && BY_NAME.has(v)) out.push(v);
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((x) => inside(x, key));
      return;
    }
    if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) inside(x, k);
  };
  const find = (v: unknown, depth: number): void => {
    if (!v || typeof v !== 'object' || Array.isArray(v) || depth > 5) return;
    for (const [k, x] of Object.entries(v)) OFFER_KEYS.has(k) ? inside(x, k) : find(x, depth + 1);
  };
  if (typeof env.hint === 'string') inside(env.hint);
  if (typeof env._meta?.next === 'string') inside(env._meta.next);
  find(env.data, 0);
  find(env.details, 0);
  return [...new Set(out)];
}

function expectNoForeignOffer(env: any, callable: ReadonlySet<string>, self: string | undefined, where: string) {
  // A finished success offers nothing of itself again; a preview's next step is to confirm the same tool.
  const bad = offered(env).filter(
    (n) => !callable.has(n) || (env.success === true && env.status !== 'preview' && n === self),
  );
  expect(bad, `${where} offers ${bad.join(', ')}: ${JSON.stringify(env).slice(0, 600)}`).toEqual([]);
}

describe('texts served to each caller', () => {
  let checked = 0;
  afterAll(() => {
    expect(checked).toBeGreaterThan(0);
  });

  for (const s of SWEEP) {
    const callable = new Set(s.tools.map((t) => t.name));
    const tag = `${s.label} [${s.clients.join(',')}]`;

    it(`${tag}: instructions in every tier and mode name only callable tools`, () => {
      const previews = s.tools.some((t) => t.confirm);
      for (const tier of TIERS)
        for (const mode of MODES) {
          const text = instructionsFor(callable, mode, tier);
          const foreign = toolsIn(text, NAMES).filter((n) => !callable.has(n));
          expect(foreign, `${tag} ${tier}/${mode}`).toEqual([]);
          expect(text).not.toContain('<!--');
          // Only a caller with a tool that previews is told about confirmed=true.
          if (!previews) expect(text, `${tag} ${tier}/${mode}`).not.toContain('confirmed=true');
          checked++;
        }
    });

    it(`${tag}: every guide and prompt it is served names only callable tools`, () => {
      const guides = guidesFor(callable, s.tools);
      const modules = new Set(s.tools.map((t) => t.module));
      expect(guides.map((g) => g.uri)).toEqual(
        RESOURCES.filter((r) => !r.module || modules.has(r.module)).map((r) => r.uri),
      );
      for (const g of guides) {
        expect(
          toolsIn(g.text, NAMES).filter((n) => !callable.has(n)),
          `${tag} ${g.uri}`,
        ).toEqual([]);
        expect(g.text, g.uri).not.toContain('<!--');
        expect(g.text.trim().length, g.uri).toBeGreaterThan(40);
        checked++;
      }
      for (const p of promptsFor(callable))
        expect(
          toolsIn(p.text, NAMES).filter((n) => !callable.has(n)),
          `${tag} prompt ${p.name}`,
        ).toEqual([]);
    });
  }

  it('a guide keeps what its tools allow: the troubleshooting guide tells readonly who can resume, admins how', () => {
    const text = (persona: string) =>
      guidesFor(new Set(selectTools({ persona, clients: ['trainer'], policy: {} }).map((t) => t.name))).find(
        (g) => g.uri === 'trainer://guides/troubleshooting',
      )!.text;
    expect(text('readonly')).not.toMatch(/update_training_job/);
    expect(text('readonly')).toMatch(/resuming it needs the ml-engineer persona/);
    expect(text('platform-admin')).toMatch(/update_training_job\(name, action='resume'\)/);
    expect(text('platform-admin')).not.toMatch(/resuming it needs/);
  });

  it('prompts are offered by the tools their text names, whatever follows the name', () => {
    for (const p of PROMPTS) expect(p.tools).toEqual(toolsIn(p.text, NAMES));
    const readonly = new Set(selectTools({ persona: 'readonly', clients: ['trainer'], policy: {} }).map((t) => t.name));
    expect(promptsFor(readonly).map((p) => p.name)).not.toContain('plan_fine_tuning');
  });
});

/** Envelopes shaped as handlers answer (and may come to answer), each naming `tool` in every place. */
function shapes(tool: string, self: string): Array<{ label: string; env: any }> {
  const fix = { tool, arguments: { model: 'hf://x/y' }, change: 'half the batch size', note: 'Pass the token again.' };
  return [
    {
      label: 'fix',
      env: {
        success: true,
        data: { fix, next_steps: [`Preview the fix with ${tool}(...) using fix.arguments`] },
        _meta: { next: `Apply it with ${tool}` },
      },
    },
    {
      label: 'tool_selection',
      env: {
        success: true,
        data: {
          tool_selection: {
            recommended: tool,
            runtime: 'r',
            reason: 'fits',
            alternatives: [tool, { tool, why: 'also fits' }],
          },
          next_steps: [`Preview with ${tool}() on runtime r`, `No GPUs: train on CPU; use ${tool} with gloo`],
        },
      },
    },
    {
      label: 'next_steps objects',
      env: { success: true, data: { next_steps: [{ tool, arguments: {} }, `then ${tool} without parentheses`] } },
    },
    {
      label: 'nested recommendations',
      env: {
        success: true,
        data: {
          compatibility: {
            recommendations: [`Run ${tool}() for details`],
            estimate: { recommendation: `size it with ${tool}` },
          },
        },
      },
    },
    {
      label: 'error details',
      env: {
        success: false,
        error: 'failed',
        error_code: 'JOB_FAILED',
        details: { fix, diagnosis: { category: 'OOM' } },
        hint: `Preview the fix with ${tool}(...): half the batch size`,
      },
    },
    {
      label: 'self',
      env: {
        success: true,
        data: { hint: `call ${self}() again` },
        _meta: { next: `Call ${self}() again, or ${tool}()` },
      },
    },
  ];
}

describe('answers resolved for each caller', () => {
  it('no structured field or text offers an uncallable tool, for every tool, shape and caller', () => {
    let n = 0;
    for (const s of SWEEP) {
      const state = { tools: new Map(s.tools.map((t) => [t.name, t])), persona: s.persona, policy: s.policy };
      const callable = new Set(state.tools.keys());
      for (const self of ['pre_flight', 'get_training_logs']) {
        for (const tool of NAMES)
          for (const { label, env } of shapes(tool, self)) {
            const out = resolveEnvelope(structuredClone(env), callerOf(state, self));
            expectNoForeignOffer(out, callable, self, `${s.label} [${s.clients}] ${label} naming ${tool}`);
            n++;
          }
      }
    }
    expect(n).toBeGreaterThan(5000);
  });

  it('a call the caller cannot make keeps what it would change and says truthfully why', () => {
    const readonly = {
      tools: new Map(selectTools({ persona: 'readonly', clients: ['trainer'], policy: {} }).map((t) => [t.name, t])),
      persona: 'readonly',
      policy: {},
    };
    const env = resolveEnvelope(
      {
        success: true,
        data: {
          fix: { tool: 'fine_tune', arguments: { batch_size: 2 }, change: 'half the batch size' },
          tool_selection: { recommended: 'fine_tune', runtime: 'torchtune-llama3.2-1b', reason: 'fits' },
        },
      },
      callerOf(readonly, 'get_training_logs'),
    );
    expect(env.data.fix).toEqual({
      change: 'half the batch size',
      unavailable: expect.stringMatching(
        /^Fine-tune Model needs the data-scientist persona .*this session is readonly/,
      ),
    });
    expect(env.data.tool_selection).toEqual({
      runtime: 'torchtune-llama3.2-1b',
      reason: 'fits',
      unavailable: expect.stringContaining('data-scientist persona'),
    });
    const noOptimizer = {
      tools: new Map(
        selectTools({ persona: 'data-scientist', clients: ['trainer'], policy: {} }).map((t) => [t.name, t]),
      ),
      persona: 'data-scientist',
      policy: {},
    };
    expect(unavailableBecause('optimize', callerOf(noOptimizer))).toMatch(/needs the optimizer client module/);
    const denied = { tools: new Map(), persona: 'ml-engineer', policy: { policy: { deny: ['risk:destructive'] } } };
    expect(unavailableBecause('delete_training_job', callerOf(denied))).toMatch(/blocked by this server's policy/);
    for (const s of [readonly, noOptimizer, denied])
      for (const t of NAMES) expect(toolsIn(unavailableBecause(t, callerOf(s)), NAMES)).toEqual([]);
  });

  it('a hint keeps its callable clauses, whatever follows a tool name', () => {
    const ds = {
      tools: new Map(
        selectTools({ persona: 'data-scientist', clients: ['trainer'], policy: {} }).map((t) => [t.name, t]),
      ),
      persona: 'data-scientist',
      policy: {},
    };
    const env = resolveEnvelope(
      {
        success: true,
        data: {},
        _meta: { next: 'Check get_training_job(name), or resume it with update_training_job' },
      },
      callerOf(ds, 'list_training_jobs'),
    );
    expect(env._meta.next).toBe('Check get_training_job(name)');
  });
});

describe('hints that follow the result', () => {
  const tool = (n: string) => BY_NAME.get(n)! as ToolDescriptor<any>;

  it("no tool's hint, in any of its variants, names the tool itself", () => {
    for (const t of TOOLS)
      for (const text of [t.next, ...t.nextWhen.map((w) => w.text)])
        expect(toolsIn(text, NAMES), `${t.name}: ${text}`).not.toContain(t.name);
  });

  it('events without warnings have nothing to fix', async () => {
    expect(
      await nextFor(tool('get_training_events'), { job: 'j', warnings: 0, total: 3, events: [] }, { name: 'j' }),
    ).not.toMatch(/fix|retry|delete/i);
    expect(
      await nextFor(tool('get_training_events'), { job: 'j', warnings: 2, total: 3, events: [] }, { name: 'j' }),
    ).toMatch(/warnings say/);
  });

  it("a job's hint follows its status", async () => {
    const next = (status: string) => nextFor(tool('get_training_job'), { name: 'j', status, steps: [] }, { name: 'j' });
    expect(await next('Failed')).toMatch(/next_steps names the step/);
    expect(await next('Complete')).toMatch(/finished/);
    expect(await next('Created')).toMatch(/get_training_events/);
  });
});

describe('answers from the sandbox, for each caller', () => {
  let sb: Sandbox;
  const states = new Map<string, ServerState>();
  const stateFor = (s: (typeof SWEEP)[number]) => {
    const key = `${s.label}|${s.clients}`;
    if (!states.has(key)) {
      // Built as a built-in persona, then given the swept caller's persona, policy and tools.
      const st = inProcessState(sb.kubeconfig, PERSONAS[s.persona] ? s.persona : 'readonly', s.clients);
      st.persona = s.persona;
      st.policy = s.policy;
      st.tools = new Map(s.tools.map((t) => [t.name, t]));
      states.set(key, st);
    }
    return states.get(key)!;
  };
  const admin = () => stateFor(SWEEP.find((s) => s.label === 'platform-admin' && s.clients.length === 2)!);
  const job = (name: string, annotations: Record<string, string>, model: string) => ({
    apiVersion: 'trainer.kubeflow.org/v1alpha1',
    kind: 'TrainJob',
    metadata: { name, namespace: 'default', labels: { 'kubeflow-mcp/managed-by': 'mcp' }, annotations },
    spec: {
      runtimeRef: { apiGroup: 'trainer.kubeflow.org', kind: 'ClusterTrainingRuntime', name: 'torchtune-llama3.2-1b' },
      initializer: { model: { storageUri: model }, dataset: { storageUri: 'hf://tatsu-lab/alpaca' } },
    },
  });
  const statusOf = async (name: string) => ((await runTool(admin(), 'get_training_job', { name })) as any).data?.status;
  const until = async (name: string, want: string) => {
    for (let i = 0; i < 200 && (await statusOf(name)) !== want; i++) await new Promise((r) => setTimeout(r, 50));
  };

  beforeAll(async () => {
    sb = await startSandbox({ timeScale: 0.02, objects: structuredClone(EXAMPLES_FIXTURE) });
    await claimFixtureJobs(sb.kubeconfig);
    for (
      let i = 0;
      i < 100 &&
      !sb.store
        .list(typeNamed('pods'), 'default')
        .some(
          (p: any) => p.metadata.labels?.['jobset.sigs.k8s.io/jobset-name'] === 'demo' && p.status?.phase !== 'Pending',
        );
      i++
    )
      await new Promise((r) => setTimeout(r, 50));
    const kube = admin().kube;
    const request = JSON.stringify({
      tool: 'fine_tune',
      arguments: {
        model: 'hf://Qwen/Qwen2.5-1.5B-Instruct',
        dataset: 'hf://tatsu-lab/alpaca',
        runtime: 'torchtune-llama3.2-1b',
        batch_size: 4,
      },
    });
    await kube.create(
      'trainjobs',
      job(
        'oom-job',
        { 'sandbox.kubeflow-mcp.dev/outcome': 'oom', 'kubeflow-mcp/request': request },
        'hf://Qwen/Qwen2.5-1.5B-Instruct',
      ),
      'default',
    );
    await kube.create('trainjobs', job('gated-job', {}, 'hf://meta-llama/Llama-3.2-1B-Instruct'), 'default');
    await until('oom-job', 'Failed');
    await until('gated-job', 'Failed');
  }, 60_000);
  afterAll(async () => {
    await sb?.stop();
  });

  it('every example each caller can call, and the failed jobs, offer only callable tools', async () => {
    let calls = 0;
    for (const s of SWEEP) {
      const state = stateFor(s);
      const callable = new Set(state.tools.keys());
      for (const t of TOOLS) {
        // Waiting tools wait; confirmed examples would change the fixture the others read.
        if (t.name.startsWith('wait_')) continue;
        for (const ex of t.examples) {
          if (ex.input.confirmed === true) continue;
          const env = await runTool(state, t.name, structuredClone(ex.input));
          expectNoForeignOffer(env, callable, t.name, `${s.label} [${s.clients}] ${t.name}: ${ex.title}`);
          calls++;
        }
      }
      for (const name of ['oom-job', 'gated-job', 'demo']) {
        for (const [tool, args] of [
          ['get_training_job', { name }],
          ['get_training_logs', { name }],
          ['get_training_events', { name }],
        ] as const) {
          if (!callable.has(tool)) continue;
          expectNoForeignOffer(await runTool(state, tool, args), callable, tool, `${s.label} ${tool} ${name}`);
          calls++;
        }
      }
      if (callable.has('pre_flight')) {
        expectNoForeignOffer(
          await runTool(state, 'pre_flight', { model: 'google/gemma-2b' }),
          callable,
          'pre_flight',
          `${s.label} pre_flight`,
        );
        calls++;
      }
    }
    expect(calls).toBeGreaterThan(200);
  }, 120_000);

  it('pre_flight tells readonly which tool fits without offering it', async () => {
    const ro = stateFor(SWEEP.find((s) => s.label === 'readonly' && s.clients.length === 1)!);
    const env: any = await runTool(ro, 'pre_flight', { model: 'google/gemma-2b' });
    expect(env.data.tool_selection.recommended).toBeUndefined();
    expect(env.data.tool_selection.unavailable).toMatch(/data-scientist persona/);
    expect(env._meta.next).not.toMatch(/recommended training tool|fine_tune|run_custom_training/);
    const ds: any = await runTool(
      stateFor(SWEEP.find((s) => s.label === 'data-scientist' && s.clients.length === 1)!),
      'pre_flight',
      { model: 'google/gemma-2b' },
    );
    expect(['fine_tune', 'run_custom_training']).toContain(ds.data.tool_selection.recommended);
    expect(ds._meta.next).toMatch(new RegExp(`Preview ${ds.data.tool_selection.recommended}\\(\\)`));
  });

  it("a failed job's fix is a call for those who may make it, and a sentence for readonly", async () => {
    const logs = async (label: string) =>
      (await runTool(stateFor(SWEEP.find((s) => s.label === label && s.clients.length === 1)!), 'get_training_logs', {
        name: 'oom-job',
      })) as any;
    const ds = await logs('data-scientist');
    expect(ds.success, JSON.stringify(ds)).toBe(true);
    expect(ds.data.fix).toMatchObject({ tool: 'fine_tune', arguments: expect.any(Object) });
    const ro = await logs('readonly');
    expect(ro.data.fix.tool).toBeUndefined();
    expect(ro.data.fix.arguments).toBeUndefined();
    expect(ro.data.fix.change).toBe(ds.data.fix.change);
    expect(ro.data.fix.unavailable).toMatch(/data-scientist persona/);
  });

  it('a job whose model initializer failed points at that step, not at a trainer that never ran', async () => {
    const env: any = await runTool(admin(), 'get_training_job', { name: 'gated-job' });
    expect(env.data.status).toBe('Failed');
    const failed = env.data.steps.filter((s: any) => s.status === 'Failed').map((s: any) => s.name);
    expect(failed).toContain('model-initializer');
    expect(env.data.next_steps[0]).toMatch(/step='model-initializer'/);
    expect(env.data.next_steps.join(' ')).not.toMatch(/get_training_logs\(name='gated-job'\)/);
  });

  it('a job that ran cleanly gets no advice to fix anything', async () => {
    await until('demo', 'Complete');
    const env: any = await runTool(admin(), 'get_training_events', { name: 'demo' });
    if (env.data.warnings === 0) expect(env._meta.next).not.toMatch(/fix|retry|delete/i);
  });
});
