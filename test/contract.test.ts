// Every example of every tool spec, run through a real MCP client against the sandbox: the call
// ends as the example says, and its structuredContent conforms to the tool's output schema. A tool
// is tested the moment its spec has an example.
//
// Each answer, with what changes from run to run replaced by placeholders and long values cut, is
// also compared with its capture in test/fixtures/example-answers.json, from which the docs
// site's tool pages show it (generator/site.ts). `UPDATE_CAPTURES=1 npx vitest run
// test/contract.test.ts` rewrites that file from the answers of the examples that pass.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import AjvModule from 'ajv';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { Environment } from '@marcbachmann/cel-js';
import { EXAMPLES_FIXTURE, TOOLS } from '../generated/index.ts';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { claimFixtureJobs } from './helpers/ownership.ts';
import { typeNamed } from '../sandbox/resources.ts';
import { toCel } from '../runtime/cel/evaluate.ts';
import { connect, danglingHints, type Connected } from './helpers/mcp.ts';

const Ajv = (AjvModule as any).default ?? AjvModule;
const ajv = new Ajv({ strict: false, allErrors: true });
const cel = new Environment({
  enableOptionalTypes: true,
  homogeneousAggregateLiterals: false,
  unlistedVariablesAreDyn: true,
});

let sb: Sandbox;
const clients = new Map<string, Connected>();
let kubeconfig = '';
const dir = mkdtempSync(join(tmpdir(), 'kfmcp-contract-'));

const CAPTURE_FILE = fileURLToPath(new URL('./fixtures/example-answers.json', import.meta.url));
const UPDATE_HOW =
  'run `UPDATE_CAPTURES=1 npx vitest run test/contract.test.ts` to rewrite the capture file, then `npm run gen` for the docs pages';
const updating = !!process.env.UPDATE_CAPTURES;
type Captures = Record<string, Record<string, unknown>>;
const stored: Captures = existsSync(CAPTURE_FILE) ? JSON.parse(readFileSync(CAPTURE_FILE, 'utf8')) : {};
const fresh: Captures = {};

/** The most a captured answer may take, as compact JSON. */
const ANSWER_BUDGET = 2048;
// Values that differ between runs of the same example, by the key that holds them ...
const VOLATILE_KEYS: Array<[RegExp, string]> = [
  [/^uid$/i, '<uid>'],
  [/^resource_?version$/i, '<resourceVersion>'],
  [/^(uptime|duration|elapsed|age|waited)(_?(seconds|secs|ms|s))?$/i, '<duration>'],
];
// ... and by their shape inside any string (pods' random suffixes use Kubernetes' alphabet).
const VOLATILE_TEXT: Array<[RegExp, string]> = [
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?/g, '<time>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uid>'],
  [/\b(127\.0\.0\.1|localhost|\[::1\]):\d+/g, '$1:<port>'],
  [/(?<=[a-z0-9]-)[bcdfghjklmnpqrstvwxz2456789]{5}(?![a-z0-9-])/g, '<suffix>'],
];
// Log text (a training script's output) carries measured rates, clock readings and sampled
// losses: its numbers other than whole counts are masked.
const LOG_KEYS = /^(logs?|lines?|output|tail)$/i;
const maskLog = (s: string) =>
  s.replace(/\b\d+:\d{2}(:\d{2})?\b/g, '<clock>').replace(/\d+\.\d+(e[+-]?\d+)?/gi, '<num>');

function scrub(v: unknown, key = ''): unknown {
  if (typeof v === 'string') {
    let s = v;
    for (const [re, to] of VOLATILE_TEXT) s = s.replace(re, to);
    return LOG_KEYS.test(key) ? maskLog(s) : s;
  }
  if (Array.isArray(v)) return v.map((x) => scrub(x, typeof x === 'string' ? key : ''));
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => {
        const volatile = VOLATILE_KEYS.find(([re]) => re.test(k));
        return [k, volatile && x !== null && typeof x !== 'object' ? volatile[1] : scrub(x, k)];
      }),
    );
  }
  return v;
}

/** Long strings cut (multi-line text at a line end), long arrays cut, and objects below the
 * envelope and its data cut to some fields; each cut says what it left out. */
function cut(v: unknown, chars: number, items: number, fields = Infinity, depth = 0): unknown {
  if (typeof v === 'string') {
    const cps = [...v];
    if (cps.length <= chars) return v;
    let head = cps.slice(0, chars).join('');
    const nl = head.lastIndexOf('\n');
    if (nl > chars / 3) head = head.slice(0, nl + 1);
    return `${head}… (${cps.length - [...head].length} more characters)`;
  }
  if (Array.isArray(v)) {
    const kept = v.slice(0, items).map((x) => cut(x, chars, items, fields, depth + 1));
    return v.length > items ? [...kept, `… (${v.length - items} more)`] : kept;
  }
  if (v && typeof v === 'object') {
    const entries = Object.entries(v);
    const keep = depth < 2 ? entries.length : fields;
    const kept = entries.slice(0, keep).map(([k, x]) => [k, cut(x, chars, items, fields, depth + 1)]);
    return Object.fromEntries(
      entries.length > keep
        ? [...kept, ['…', `${entries.length - keep} more field${entries.length - keep === 1 ? '' : 's'}`]]
        : kept,
    );
  }
  return v;
}

/** Objects below a depth folded into a note of their keys (the last resort for the budget). */
function fold(v: unknown, depth: number): unknown {
  if (Array.isArray(v)) return depth <= 0 ? `… (${v.length} items)` : v.map((x) => fold(x, depth - 1));
  if (v && typeof v === 'object')
    return depth <= 0
      ? `… (${Object.keys(v).length} fields)`
      : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fold(x, depth - 1)]));
  return v;
}

/** An answer as the capture file keeps it: stable from run to run and within the budget. */
function captureOf(envelope: unknown): unknown {
  const stable = scrub(envelope);
  const fits = (x: unknown) => JSON.stringify(x).length <= ANSWER_BUDGET;
  if (fits(stable)) return stable;
  for (const [chars, items, fields] of [
    [600, 10, 40],
    [400, 6, 20],
    [300, 4, 12],
    [200, 3, 8],
    [160, 2, 6],
    [120, 2, 4],
    [80, 1, 3],
  ]) {
    const small = cut(stable, chars, items, fields);
    if (fits(small)) return small;
  }
  for (let depth = 5; depth > 0; depth--) {
    const small = fold(cut(stable, 80, 1, 3), depth);
    if (fits(small)) return small;
  }
  return fold(stable, 0);
}

/** Tools that exist only with several contexts run against a kubeconfig with a second context
 * (to the same sandbox) and a policy allowing both. */
async function client(persona: string, contexts = false) {
  const key = `${persona}${contexts ? '+contexts' : ''}`;
  if (!clients.has(key)) {
    const env: Record<string, string> = contexts ? { KUBEFLOW_MCP_POLICY: join(dir, 'contexts-policy.yaml') } : {};
    clients.set(
      key,
      await connect(
        [
          '--kubeconfig',
          contexts ? join(dir, 'two-contexts') : kubeconfig,
          '--persona',
          persona,
          '--clients',
          'trainer,optimizer,hub',
        ],
        env,
      ),
    );
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
  writeFileSync(
    join(dir, 'contexts-policy.yaml'),
    `policy:\n  contexts: [${kc.contexts.map((c: any) => c.name).join(', ')}]\n`,
  );
  // Let the controller give the fixture job its pods, so examples about steps and logs have them.
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
  // The captured answers show the fixture search finished (both trials run one after the other):
  // waits for that, however slow the machine, rather than racing it.
  const searchDone = () =>
    (sb.store.get(typeNamed('optimizationjobs'), 'default', 'demo-hpo')?.status?.conditions ?? []).some(
      (c: any) => c.type === 'Complete' && c.status === 'True',
    );
  for (const until = Date.now() + 25_000; !searchDone() && Date.now() < until; )
    await new Promise((r) => setTimeout(r, 50));
}, 60_000);
afterAll(async () => {
  for (const c of clients.values()) await c.close();
  await sb?.stop();
  if (!updating) return;
  // Every example in spec order, tools by name: this run's answer, else (the example failed or was
  // not run) the one already captured; examples that no longer exist drop out.
  const out: Captures = {};
  for (const tool of [...TOOLS].sort((a, b) => a.name.localeCompare(b.name))) {
    for (const ex of tool.examples) {
      const answer = fresh[tool.name]?.[ex.title] ?? stored[tool.name]?.[ex.title];
      if (answer !== undefined) (out[tool.name] ??= {})[ex.title] = answer;
    }
  }
  writeFileSync(CAPTURE_FILE, `${JSON.stringify(out, null, 2)}\n`);
});

describe('tool examples', () => {
  it('every tool has at least one example', () => {
    expect(TOOLS.filter((t) => !t.examples.length).map((t) => t.name)).toEqual([]);
  });

  it.skipIf(updating)('the capture file has no answer of an example that is gone', () => {
    const gone = Object.entries(stored).flatMap(([name, byTitle]) =>
      Object.keys(byTitle)
        .filter((title) => !TOOLS.find((t) => t.name === name)?.examples.some((e) => e.title === title))
        .map((title) => `${name}: ${title}`),
    );
    expect(gone, UPDATE_HOW).toEqual([]);
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
          expect(envelope, JSON.stringify(envelope).slice(0, 500)).toMatchObject({
            success: false,
            error_code: ex.error,
          });
        } else {
          expect(envelope.success, JSON.stringify(envelope).slice(0, 500)).toBe(true);
          const ok = cel.evaluate(ex.expect!, {
            result: toCel(envelope, false),
            data: toCel(envelope.data ?? {}, false),
          });
          expect(ok, `${ex.expect}\n${JSON.stringify(envelope).slice(0, 800)}`).toBe(true);
        }
        const answer = captureOf(envelope);
        if (updating) (fresh[tool.name] ??= {})[ex.title] = answer;
        else {
          const before = stored[tool.name]?.[ex.title];
          expect(
            before,
            `no captured answer for ${tool.name}: ${ex.title} in test/fixtures/example-answers.json; ${UPDATE_HOW}`,
          ).toBeDefined();
          expect(
            answer,
            `the answer of ${tool.name}: ${ex.title} differs from its capture in test/fixtures/example-answers.json; if the change is meant, ${UPDATE_HOW}`,
          ).toStrictEqual(before);
        }
      });
    }
  }
});
