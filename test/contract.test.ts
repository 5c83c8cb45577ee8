// Every example of every tool spec, run through a real MCP client against the sandbox: the call
// ends as the example says, and its structuredContent conforms to the tool's output schema. A tool
// is tested the moment its spec has an example.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AjvModule from 'ajv';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { Environment } from '@marcbachmann/cel-js';
import { EXAMPLES_FIXTURE, TOOLS } from '../generated/index.ts';
import { startSandbox, type Sandbox } from '../runtime/sandbox/index.ts';
import { claimFixtureJobs } from './helpers/ownership.ts';
import { typeNamed } from '../runtime/sandbox/resources.ts';
import { toCel } from '../runtime/cel/evaluate.ts';
import { connect, danglingHints, type Connected } from './helpers/mcp.ts';

const Ajv = (AjvModule as any).default ?? AjvModule;
const ajv = new Ajv({ strict: false, allErrors: true });
const cel = new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: false, unlistedVariablesAreDyn: true });

let sb: Sandbox;
const clients = new Map<string, Connected>();
let kubeconfig = '';
const dir = mkdtempSync(join(tmpdir(), 'kfmcp-contract-'));

/** Tools that exist only with several contexts run against a kubeconfig with a second context
 * (to the same sandbox) and a policy allowing both. */
async function client(persona: string, contexts = false) {
  const key = `${persona}${contexts ? '+contexts' : ''}`;
  if (!clients.has(key)) {
    const env: Record<string, string> = contexts ? { KUBEFLOW_MCP_POLICY: join(dir, 'contexts-policy.yaml') } : {};
    clients.set(key, await connect(['--kubeconfig', contexts ? join(dir, 'two-contexts') : kubeconfig, '--persona', persona, '--clients', 'trainer,optimizer,hub'], env));
  }
  return clients.get(key)!;
}

beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.02, objects: structuredClone(EXAMPLES_FIXTURE) });
  await claimFixtureJobs(sb.kubeconfig);
  kubeconfig = join(dir, 'kc');
  writeFileSync(kubeconfig, sb.kubeconfig);
  const kc = parseYaml(sb.kubeconfig);
  kc.contexts.push({ name: 'sandbox-again', context: { ...kc.contexts[0].context, namespace: 'team-b' } });
  writeFileSync(join(dir, 'two-contexts'), stringifyYaml(kc));
  writeFileSync(join(dir, 'contexts-policy.yaml'), `policy:\n  contexts: [${kc.contexts.map((c: any) => c.name).join(', ')}]\n`);
  // Let the controller give the fixture job its pods, so examples about steps and logs have them.
  for (let i = 0; i < 100 && !sb.store.list(typeNamed('pods'), 'default').some((p: any) => p.metadata.labels?.['jobset.sigs.k8s.io/jobset-name'] === 'demo' && p.status?.phase !== 'Pending'); i++) await new Promise((r) => setTimeout(r, 50));
});
afterAll(async () => { for (const c of clients.values()) await c.close(); await sb?.stop(); });

describe('tool examples', () => {
  it('every tool has at least one example', () => {
    expect(TOOLS.filter((t) => !t.examples.length).map((t) => t.name)).toEqual([]);
  });

  for (const tool of TOOLS) {
    for (const ex of tool.examples) {
      it(`${tool.name}: ${ex.title}`, async () => {
        const c = await client(ex.persona ?? 'platform-admin', tool.needs === 'contexts');
        const listed = (await c.client.listTools()).tools.find((t) => t.name === tool.name)!;
        // tools/list carries what calling needs and no output schema; an example that the server
        // accepts is valid against the listed schema too, and names only listed inputs or the
        // advanced ones a preview lists.
        expect(listed.outputSchema).toBeUndefined();
        const listedProps = Object.keys(listed.inputSchema.properties ?? {});
        expect(Object.keys(ex.input).filter((k) => !listedProps.includes(k) && !(k in tool.moreOptions))).toEqual([]);
        if (ex.error !== 'VALIDATION_ERROR') {
          const validateListed = ajv.compile(listed.inputSchema);
          expect(validateListed(ex.input), JSON.stringify(validateListed.errors)).toBe(true);
        }
        const res: any = await c.client.callTool({ name: tool.name, arguments: ex.input });
        const envelope = res.structuredContent;
        expect(JSON.parse(res.content[0].text)).toEqual(envelope);
        for (const schema of [tool.outputSchema, tool.listedOutputSchema]) {
          const validate = ajv.compile(schema);
          expect(validate(envelope), JSON.stringify(validate.errors)).toBe(true);
        }
        expect(danglingHints(envelope)).toEqual([]);
        if (ex.error) {
          expect(envelope, JSON.stringify(envelope).slice(0, 500)).toMatchObject({ success: false, error_code: ex.error });
        } else {
          expect(envelope.success, JSON.stringify(envelope).slice(0, 500)).toBe(true);
          const ok = cel.evaluate(ex.expect!, { result: toCel(envelope, false), data: toCel(envelope.data ?? {}, false) });
          expect(ok, `${ex.expect}\n${JSON.stringify(envelope).slice(0, 800)}`).toBe(true);
        }
      });
    }
  }
});
