// The 2026-07-28 pieces on their own: envelope and header rules, result fields, signed state, the
// input_required confirmation, and the tasks extension checked against the shapes of the spec's
// examples (CreateTaskResult, tasks/get while working and once completed, cancel, unknown ids).
import { describe, expect, it } from 'vitest';
import {
  checkHeaders,
  claimsModern,
  decorate,
  discoverResult,
  isRefusal,
  LEGACY_VERSIONS,
  readEnvelope,
} from '../runtime/protocol/era.ts';
import { PROTOCOL_VERSIONS } from '../runtime/stdio.ts';
import { Signer } from '../runtime/protocol/signing.ts';
import { modernConfirmation } from '../runtime/protocol/confirm.ts';
import { CANCELLED_ANNOTATION, TaskService, type TaskHost } from '../runtime/protocol/tasks.ts';

const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};
const signer = (k = 'k'.repeat(32)) => new Signer(async () => Buffer.from(k));
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('the per-request envelope and the HTTP headers', () => {
  it('tells the eras apart and checks the envelope', () => {
    expect(LEGACY_VERSIONS).toEqual(PROTOCOL_VERSIONS);
    expect(claimsModern({ method: 'tools/list', params: { _meta: META } })).toBe(true);
    expect(claimsModern({ method: 'initialize', params: { protocolVersion: '2025-11-25' } })).toBe(false);
    expect(readEnvelope({ params: { _meta: META } })).toEqual({ version: '2026-07-28', capabilities: {} });
    const old = readEnvelope({
      params: { _meta: { ...META, 'io.modelcontextprotocol/protocolVersion': '2030-01-01' } },
    });
    expect(isRefusal(old) && old.error).toMatchObject({
      code: -32022,
      data: { requested: '2030-01-01', supported: expect.arrayContaining(['2026-07-28']) },
    });
    const bare = readEnvelope({ params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } });
    expect(isRefusal(bare) && bare).toMatchObject({ status: 400, error: { code: -32602 } });
  });

  it('wants MCP-Protocol-Version, Mcp-Method and Mcp-Name to match the body', () => {
    const m = { id: 1, method: 'tools/call', params: { name: 'list_runtimes', _meta: META } };
    const good = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'list_runtimes' };
    expect(checkHeaders(good, m)).toBeUndefined();
    expect(
      checkHeaders({ ...good, 'mcp-name': `=?base64?${Buffer.from('list_runtimes').toString('base64')}?=` }, m),
    ).toBeUndefined();
    for (const bad of [
      { ...good, 'mcp-method': undefined },
      { ...good, 'mcp-method': 'tools/list' },
      { ...good, 'mcp-name': 'fine_tune' },
      { ...good, 'mcp-name': undefined },
      { ...good, 'mcp-protocol-version': '2025-11-25' },
      { ...good, 'mcp-protocol-version': undefined },
    ]) {
      expect(checkHeaders(bad, m)).toMatchObject({ status: 400, error: { code: -32020 } });
    }
    // A notification is checked only for what it carries.
    expect(checkHeaders({}, { method: 'notifications/cancelled', params: {} })).toBeUndefined();
  });

  it('adds resultType, serverInfo and cache hints to results', () => {
    const server = { name: 'kubeflow-mcp', version: '1' };
    expect(decorate({ tools: [] }, 'tools/list', server)).toEqual({
      tools: [],
      resultType: 'complete',
      ttlMs: 60000,
      cacheScope: 'private',
      _meta: { 'io.modelcontextprotocol/serverInfo': server },
    });
    expect(
      decorate({ content: [], resultType: 'input_required', requestState: 'x' }, 'tools/call', server),
    ).not.toHaveProperty('content');
    const d = discoverResult({
      capabilities: { tools: {}, logging: {}, resources: { subscribe: true } },
      server,
      tasks: true,
      cacheScope: 'private',
      instructions: 'hi',
    });
    expect(d).toMatchObject({
      resultType: 'complete',
      supportedVersions: ['2026-07-28', ...PROTOCOL_VERSIONS],
      instructions: 'hi',
      capabilities: { tools: {}, extensions: { 'io.modelcontextprotocol/tasks': {} } },
    });
    expect(d.capabilities).not.toHaveProperty('logging');
  });
});

describe('confirmation through input_required', () => {
  const args = { name: 'j', model: 'm', dataset: 'd' };
  const schema = { type: 'object', properties: { confirm: { type: 'boolean' } }, required: ['confirm'] } as any;

  it('asks first, then runs only on an accepted answer with the state it signed for these arguments and caller', async () => {
    const s = signer();
    const first = modernConfirmation(s, { tool: 'fine_tune', args, caller: 'alice' });
    expect(await first.elicit('Fine tune: preview', schema)).toEqual({ action: 'pending' });
    const asked = first.pending() as any;
    expect(asked).toMatchObject({
      resultType: 'input_required',
      inputRequests: {
        confirm: {
          method: 'elicitation/create',
          params: { mode: 'form', message: 'Fine tune: preview', requestedSchema: schema },
        },
      },
    });
    const accept = { confirm: { action: 'accept', content: { confirm: true } } };
    const retry = (o: object) =>
      modernConfirmation(s, {
        tool: 'fine_tune',
        args,
        caller: 'alice',
        requestState: asked.requestState,
        inputResponses: accept,
        ...o,
      });
    // Another caller, other arguments, another tool, a forged or another key's state: asked again.
    for (const other of [
      { caller: 'bob' },
      { args: { ...args, name: 'k' } },
      { tool: 'delete_training_job' },
      { requestState: `${asked.requestState}x` },
    ]) {
      const c = retry(other);
      expect(await c.elicit('again', schema)).toEqual({ action: 'pending' });
    }
    const foreign = modernConfirmation(signer('z'.repeat(32)), {
      tool: 'fine_tune',
      args,
      caller: 'alice',
      requestState: asked.requestState,
      inputResponses: accept,
    });
    expect(await foreign.elicit('again', schema)).toEqual({ action: 'pending' });
    // confirmed=true added by the agent does not change what was approved.
    const ok = retry({ args: { ...args, confirmed: true } });
    expect(await ok.elicit('x', schema)).toEqual({ action: 'accept', content: { confirm: true } });
    expect(ok.pending()).toBeUndefined();
    // One answer, one run: the same state again is refused.
    await expect(retry({}).elicit('x', schema)).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { reason: 'confirmation_already_used' },
    });
  });

  it('refuses an answer after the state expired', async () => {
    const s = signer();
    let now = 1_000_000;
    const first = modernConfirmation(s, { tool: 'fine_tune', args, caller: 'a', now: () => now });
    await first.elicit('m', schema);
    now += 11 * 60_000;
    const late = modernConfirmation(s, {
      tool: 'fine_tune',
      args,
      caller: 'a',
      requestState: (first.pending() as any).requestState,
      inputResponses: { confirm: { action: 'accept', content: { confirm: true } } },
      now: () => now,
    });
    expect(await late.elicit('m', schema)).toEqual({ action: 'pending' });
  });
});

describe('the tasks extension', () => {
  /** A job the host reports, and what the wait answers once it is over. */
  function host(job: { status: string; annotations?: Record<string, string> }, calls: string[] = []): TaskHost {
    return {
      run: async (tool, args) => {
        calls.push(tool);
        if (tool === 'get_training_job')
          return job.status === 'gone'
            ? { success: false, error: 'not found', error_code: 'RESOURCE_NOT_FOUND' }
            : { success: true, data: { status: job.status, progress: { progressPercentage: 40 } } };
        return {
          success: true,
          data: { job: args.name, status: job.status, reached: true, message: `Job reached '${job.status}'` },
        };
      },
      progress: async () => ({ step: 40, total_steps: 100, loss: 0.87, eta_seconds: 30 }),
      annotations: async () => job.annotations ?? {},
      annotate: async (_r, _ns, _n, a) => {
        job.annotations = { ...job.annotations, ...a };
      },
      toolResult: (r) => ({
        content: [{ type: 'text', text: JSON.stringify(r) }],
        structuredContent: r,
        isError: r.success !== true,
      }),
    };
  }
  const wait = { name: 'demo', timeout_seconds: 60, polling_interval: 2 };

  it('applies to the waits, only for clients that declare the extension', () => {
    expect(TaskService.applies('wait_for_training', { extensions: { 'io.modelcontextprotocol/tasks': {} } })).toBe(
      true,
    );
    expect(TaskService.applies('wait_for_training', {})).toBe(false);
    expect(TaskService.applies('fine_tune', { extensions: { 'io.modelcontextprotocol/tasks': {} } })).toBe(false);
  });

  it('answers a CreateTaskResult, then working with progress, then completed with the tool result', async () => {
    let now = Date.parse('2025-11-25T10:30:00Z');
    const tasks = new TaskService(signer(), () => now);
    const job = { status: 'Running' };
    const created: any = await tasks.create(host(job), 'wait_for_training', wait, 'default', 'alice');
    // As the spec's CreateTaskResult example: resultType task, status, timestamps, ttlMs, pollIntervalMs.
    expect(created).toMatchObject({
      resultType: 'task',
      status: 'working',
      createdAt: '2025-11-25T10:30:00.000Z',
      lastUpdatedAt: expect.stringMatching(ISO),
      ttlMs: 60_000 + 3_600_000,
      pollIntervalMs: 5000,
    });
    expect(typeof created.taskId).toBe('string');
    now += 10_000;
    const working: any = await tasks.get(host(job), created.taskId, 'alice');
    expect(working).toMatchObject({
      resultType: 'complete',
      taskId: created.taskId,
      status: 'working',
      createdAt: created.createdAt,
      lastUpdatedAt: '2025-11-25T10:30:10.000Z',
    });
    expect(working.statusMessage).toMatch(/step 40\/100, loss 0\.87, 40%, about 30 s left/);
    expect(working).not.toHaveProperty('result');
    job.status = 'Complete';
    const done: any = await tasks.get(host(job), created.taskId, 'alice');
    expect(done).toMatchObject({
      resultType: 'complete',
      status: 'completed',
      result: { isError: false, structuredContent: { success: true, data: { status: 'Complete', reached: true } } },
    });
  });

  it('a tool error completes the task with isError (never failed); an unseen job makes no task', async () => {
    const tasks = new TaskService(signer());
    const none: any = await tasks.create(host({ status: 'gone' }), 'wait_for_training', wait, 'default', 'a');
    expect(none).toMatchObject({ isError: true });
    expect(none.resultType).toBeUndefined();
    const job = { status: 'Running' };
    const t: any = await tasks.create(host(job), 'wait_for_training', wait, 'default', 'a');
    job.status = 'gone';
    const gone: any = await tasks.get(host(job), t.taskId, 'a');
    expect(gone).toMatchObject({ status: 'completed', result: { isError: false } });
  });

  it('cancel stops the wait and leaves the job; the state lives on the job, so another replica agrees', async () => {
    const job = { status: 'Running' } as { status: string; annotations?: Record<string, string> };
    const calls: string[] = [];
    const replicaA = new TaskService(signer());
    const replicaB = new TaskService(signer());
    const t: any = await replicaA.create(host(job, calls), 'wait_for_training', wait, 'default', 'a');
    expect(await replicaB.cancel(host(job, calls), t.taskId, 'a')).toEqual({ resultType: 'complete' });
    expect(job.annotations?.[CANCELLED_ANNOTATION]).toBeTruthy();
    expect(calls.filter((c) => c.startsWith('delete'))).toEqual([]);
    expect(await replicaA.get(host(job, calls), t.taskId, 'a')).toMatchObject({ status: 'cancelled' });
    expect(job.status).toBe('Running');
  });

  it("refuses unknown, altered, other callers' and expired ids with -32602", async () => {
    let now = Date.now();
    const tasks = new TaskService(signer(), () => now);
    const t: any = await tasks.create(host({ status: 'Running' }), 'wait_for_training', wait, 'default', 'a');
    for (const [id, who] of [
      ['786512e2-9e0d-44bd-8f29-789f320fe840', 'a'],
      [`${t.taskId.slice(0, -2)}xx`, 'a'],
      [t.taskId, 'b'],
    ]) {
      await expect(tasks.get(host({ status: 'Running' }), id, who)).rejects.toMatchObject({
        code: -32602,
        message: 'Failed to retrieve task: Task not found',
      });
    }
    now += 60_000 + 3_600_000 + 1;
    await expect(tasks.get(host({ status: 'Running' }), t.taskId, 'a')).rejects.toMatchObject({
      code: -32602,
      message: 'Failed to retrieve task: Task has expired',
    });
  });
});
