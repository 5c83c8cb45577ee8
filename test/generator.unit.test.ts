// The generator refuses contributor mistakes with file:line:col, the YAML path and, for near-miss
// names, a suggestion; generation is deterministic (gen:check as a command: generator-cli.test.ts).
import { describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { loadSpecs } from '../generator/load.ts';
import { generate, readmeSearch, readmeSummary } from '../generator/generate.ts';
import { selectTools } from '../runtime/server.ts';
import { PROMPTS, RESOURCES, TOOLS } from '../generated/index.ts';
import type { ErrorCode } from '../runtime/envelope.ts';
import type { ErrorCode as SpecErrorCode } from '../generated/index.ts';
import { DESCRIBE, EXECUTE, FIND, LIST } from '../runtime/modes/meta-listing.ts';
import { RESERVED_TOOL_NAMES } from '../generator/check.ts';

const ROOT = join(import.meta.dirname, '..');
const custom = (t: string) => existsSync(join(ROOT, 'runtime', 'handlers', `${t}.ts`));

function specsWith(edits: Array<[string, (text: string) => string]>) {
  const dir = mkdtempSync(join(tmpdir(), 'kfmcp-specs-'));
  cpSync(join(ROOT, 'specs'), dir, { recursive: true });
  for (const [file, edit] of edits) {
    const before = existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8') : '';
    const after = edit(before);
    if (after === before) throw new Error(`edit of ${file} changed nothing`);
    writeFileSync(join(dir, file), after);
  }
  return dir;
}
const replace = (a: string, b: string) => (s: string) => s.replace(a, b);
/** Sets one value by its YAML path, so the edit holds whatever the rest of the file says. */
const setIn = (path: Array<string | number>, value: unknown) => (s: string) => {
  const d = parseDocument(s);
  d.setIn(path, value);
  return d.toString();
};

/** A read tool that lists pods: the guide's first example, used as a base for mistakes. */
const podsTool = (steps: string, extra = 'namespaced: true\n') => `name: list_job_pods
title: List Job Pods
module: trainer
phase: monitoring
persona: readonly
annotations: {readOnly: true, destructive: false, idempotent: true, openWorld: true}
${extra}description: The pods of one TrainJob with their phase.
inputs:
  required: [name]
  properties:
    name: {$ref: "defs#/jobName"}
    namespace: {$ref: "defs#/namespace"}
steps:
${steps}
output:
  count: size(pods.items)
examples:
  - title: pods of demo
    input: {name: demo}
    expect: "data.count >= 0"
next: Read one pod's output with get_training_logs(name)
`;
const podsStep = '  - id: pods\n    list: pods\n    labelSelector: "\'jobset.sigs.k8s.io/jobset-name=\' + input.name"';
const newTool = (text: string) => (_s: string) => text;

const cases: Array<{
  name: string;
  file: string;
  edit: (s: string) => string;
  want: RegExp;
  more?: Array<[string, (s: string) => string]>;
  previous?: boolean;
}> = [
  // The mistakes a new contributor made.
  {
    name: 'a misspelt selector key (the list would return every pod)',
    file: 'tools/get_training_job.yaml',
    edit: replace('    labelSelector:', '    selector:'),
    want: /specs\/tools\/get_training_job\.yaml:\d+:\d+: steps\.1\.selector: unknown key "selector" \(did you mean "fieldSelector" or "labelSelector"\?\)/,
  },
  {
    name: 'string templating instead of an expression',
    file: 'tools/update_training_job.yaml',
    edit: replace(
      `body: "{'spec': {'suspend': input.action == 'suspend'}}"`,
      "body: \"{'metadata': {'labels': $input.labels}}\"",
    ),
    want: /update_training_job\.yaml:\d+:\d+: steps\.0\.body: expression .* does not compile/,
  },
  {
    name: 'a namespaced list in a tool that is not namespaced',
    file: 'tools/list_job_pods.yaml',
    edit: newTool(podsTool(podsStep, '')),
    want: /list_job_pods\.yaml:\d+:\d+: steps\.0\.list: pods is namespaced: set namespaced: true/,
  },
  {
    name: '"inherit" instead of "inherits" in personas.yaml',
    file: 'personas.yaml',
    edit: replace('inherits: readonly', 'inherit: readonly'),
    want: /specs\/personas\.yaml:\d+:\d+: personas\.data-scientist\.inherit: unknown key "inherit" \(did you mean "inherits"\?\)/,
  },
  {
    name: 'a typo in instructions.yaml',
    file: 'instructions.yaml',
    edit: replace(
      '    tools: [list_training_jobs, get_training_job]',
      '    tool: [list_training_jobs, get_training_job]',
    ),
    want: /specs\/instructions\.yaml:\d+:\d+: sections\.1\.tool: unknown key "tool" \(did you mean "tools"\?\)/,
  },
  // And more.
  {
    name: 'an unknown resource',
    file: 'tools/list_job_pods.yaml',
    edit: newTool(podsTool(podsStep.replace('list: pods', 'list: pod'))),
    want: /list_job_pods\.yaml:\d+:\d+: steps\.0\.list: unknown resource "pod"; .* \(did you mean "pods"\?\)/,
  },
  {
    name: 'a namespace on a cluster-scoped resource',
    file: 'tools/delete_runtime.yaml',
    edit: replace(
      '    get: clustertrainingruntimes\n    name: input.name',
      '    get: clustertrainingruntimes\n    namespace: "\'default\'"\n    name: input.name',
    ),
    want: /delete_runtime\.yaml:\d+:\d+: steps\.0\.namespace: clustertrainingruntimes is cluster-scoped; it takes no namespace/,
  },
  {
    name: 'an expression naming a missing input',
    file: 'tools/get_training_job.yaml',
    edit: replace('    name: input.name\n', '    name: input.nme\n'),
    want: /get_training_job\.yaml:\d+:\d+: steps\.0\.name: expression "input\.nme" does not compile: No such key: nme \(did you mean "name"\?\)/,
  },
  {
    name: 'an expression naming a missing field',
    file: 'tools/get_training_job.yaml',
    edit: replace('jobs_status: job.?status.?jobsStatus', 'jobs_status: job.?status.?jobStatus'),
    want: /get_training_job\.yaml:\d+:\d+: output\.jobs_status: expression .* No such key: jobStatus \(did you mean "jobsStatus"\?\)/,
  },
  {
    name: 'a type mismatch',
    file: 'tools/list_job_pods.yaml',
    edit: newTool(podsTool(`${podsStep}\n    limit: input.name`)),
    want: /list_job_pods\.yaml:\d+:\d+: steps\.0\.limit: expression "input\.name" has type string, but int is needed here/,
  },
  {
    name: 'a mutating step without the confirm gate',
    file: 'tools/update_training_job.yaml',
    edit: replace('confirm: true\n', ''),
    want: /update_training_job\.yaml:\d+:\d+: steps\.0\.patch: a patch step changes the cluster, so the tool must preview first/,
  },
  {
    name: 'a guard on another kind',
    file: 'tools/update_training_job.yaml',
    edit: replace('    patch: trainjobs', '    patch: trainingruntimes'),
    want: /update_training_job\.yaml:\d+:\d+: steps\.0\.patch: the owned-trainjob guard checks input\.name on trainjobs only/,
  },
  {
    name: 'an unknown persona',
    file: 'tools/health_check.yaml',
    edit: replace('persona: readonly', 'persona: read-only'),
    want: /health_check\.yaml:5:\d+: persona: unknown persona "read-only" \(did you mean "readonly"\?\)/,
  },
  {
    name: 'a dangling reference',
    file: 'tools/get_training_job.yaml',
    edit: replace('defs#/jobName', 'defs#/jobNme'),
    want: /get_training_job\.yaml:\d+:\d+: inputs: dangling \$ref "defs#\/jobNme" \(did you mean "jobName"\?\)/,
  },
  {
    name: 'a hint naming no tool',
    file: 'tools/list_runtimes.yaml',
    edit: replace('get_runtime(name)', 'get_runtimes(name)'),
    want: /list_runtimes\.yaml:\d+:\d+: next: names "get_runtimes\(\)", which is no tool or prompt \(did you mean "get_runtime"\?\)/,
  },
  {
    name: 'a YAML syntax error',
    file: 'tools/health_check.yaml',
    edit: replace('title: Health Check', 'title: "Health Check'),
    want: /specs\/tools\/health_check\.yaml:\d+:\d+: YAML syntax error/,
  },
  {
    name: 'an unknown function',
    file: 'tools/get_training_job.yaml',
    edit: replace('let: jobStatus(job)', 'let: jobStatu(job)'),
    want: /get_training_job\.yaml:\d+:\d+: steps\.3\.let: expression "jobStatu\(job\)" does not compile/,
  },
  {
    name: 'a step used before it runs',
    file: 'tools/get_training_job.yaml',
    edit: replace('let: jobSteps(pods.items)', 'let: jobSteps(finished)'),
    want: /get_training_job\.yaml:\d+:\d+: steps\.2\.let: expression "jobSteps\(finished\)" does not compile: Unknown variable: finished/,
  },
  {
    name: 'a key a step kind does not take',
    file: 'tools/list_job_pods.yaml',
    edit: newTool(podsTool(`${podsStep}\n    body: input.name`)),
    want: /list_job_pods\.yaml:\d+:\d+: steps\.0\.body: a list step has no "body"/,
  },
  {
    name: 'an example whose input is invalid',
    file: 'tools/get_runtime.yaml',
    edit: replace('input: {name: torch-distributed}', 'input: {name: torch-distributed, colour: red}'),
    want: /get_runtime\.yaml:\d+:\d+: examples\.0\.input: is not valid input/,
  },
  {
    name: 'a custom tool that does not say why',
    file: 'tools/pre_flight.yaml',
    edit: (s) => s.replace(/^why: .*\n/m, ''),
    want: /pre_flight\.yaml:\d+:\d+: handler: a custom tool must say in `why`/,
  },
  {
    name: 'a namespace input without the namespace policy',
    file: 'tools/check_compatibility.yaml',
    edit: replace('namespaced: true\n', ''),
    want: /check_compatibility\.yaml:\d+:\d+: inputs\.properties\.namespace: a tool with a namespace input must say namespaced: true/,
  },
  {
    name: 'a preview naming a step that does not exist',
    file: 'tools/delete_runtime.yaml',
    edit: replace('dependent_count: size(dependents)', 'dependent_count: size(dependent)'),
    want: /delete_runtime\.yaml:\d+:\d+: preview\.fields\.dependent_count: .*Unknown variable: dependent \(did you mean "dependents"\?\)/,
  },
  {
    name: 'a result-dependent hint without a default',
    file: 'tools/pre_flight.yaml',
    edit: replace(
      '  - text: Compare the runtimes with list_runtimes() and get_runtime(name)',
      '  - when: "true"\n    text: Compare the runtimes with list_runtimes() and get_runtime(name)',
    ),
    want: /pre_flight\.yaml:\d+:\d+: next\.4: the last hint is the default: it takes no when/,
  },
  {
    name: 'a hint that names the tool answering it',
    file: 'tools/list_runtimes.yaml',
    edit: replace(
      'next: Call get_runtime(name) to inspect one before training',
      'next: Call get_runtime(name), or list_runtimes() again',
    ),
    want: /list_runtimes\.yaml:\d+:\d+: next: the hint names list_runtimes itself/,
  },
  {
    name: 'a guide marker naming no tool',
    file: 'resources/troubleshooting.md',
    edit: replace('<!-- lacks: update_training_job -->', '<!-- lacks: update_trainingjob -->'),
    want: /resources\.yaml:\d+:\d+: resources\.1\.file: resources\/troubleshooting\.md:\d+: marker names "update_trainingjob", which is no tool/,
  },
  {
    name: 'a guide block never closed',
    file: 'resources/training-patterns.md',
    edit: replace('<!-- /needs -->\n<!-- lacks', '<!-- lacks'),
    want: /training-patterns\.md:\d+: (opens a marker inside|marker is never closed)/,
  },
  {
    name: 'an instruction marker naming an unknown group',
    file: 'instructions.yaml',
    edit: replace('<!-- needs: @previews -->', '<!-- needs: @preview -->'),
    want: /instructions\.yaml:\d+:\d+: header: a marker names "@preview", which is no tool group \(did you mean "previews"\?\)/,
  },
  {
    name: 'a hint condition naming a missing field of the input',
    file: 'tools/wait_for_training.yaml',
    edit: replace('when: "has(data.reached) && !data.reached"', 'when: "input.nme == \'x\'"'),
    want: /wait_for_training\.yaml:\d+:\d+: next\.0\.when: expression .* No such key: nme \(did you mean "name"\?\)/,
  },
  {
    name: 'a tools/list over its token budget',
    file: 'budgets.yaml',
    edit: setIn(['tools_list', 'platform-admin'], 1000),
    want: /specs\/budgets\.yaml:\d+:\d+: tools_list\.platform-admin: tools\/list for platform-admin is \d+ tokens, over its budget of 1000 by \d+; its largest entries: \w+ \(\d+\)/,
  },
  {
    name: 'a new tool that pushes a tools/list over its budget, named',
    file: 'tools/list_job_pods.yaml',
    edit: newTool(podsTool(podsStep)),
    more: [['budgets.yaml', setIn(['tools_list', 'readonly'], 1000)]],
    previous: true,
    want: /tools_list\.readonly: tools\/list for readonly is \d+ tokens, over its budget of 1000 by \d+; pushed over by list_job_pods \(\d+ tokens, new since the last npm run gen\)/,
  },
  // What the checker used to accept (issue 23).
  {
    name: 'a misspelt field under an optional chain on a core kind',
    file: 'tools/list_job_pods.yaml',
    edit: newTool(
      podsTool(podsStep).replace(
        '  count: size(pods.items)',
        "  count: size(pods.items)\n  first_node: pods.items[0].spec.?nodeNme.orValue('')",
      ),
    ),
    want: /list_job_pods\.yaml:\d+:\d+: output\.first_node: expression .* No such key: nodeNme \(did you mean "nodeName"\?\)/,
  },
  {
    name: 'an optional chain into a core kind field the catalogue never declared',
    file: 'tools/list_job_pods.yaml',
    edit: newTool(
      podsTool(podsStep).replace(
        '  count: size(pods.items)',
        "  count: size(pods.items)\n  sa: pods.items[0].spec.?serviceAcountName.orValue('')",
      ),
    ),
    want: /output\.sa: expression .* No such key: serviceAcountName \(did you mean "serviceAccountName"\?\)/,
  },
  {
    name: 'an example expecting an output field the tool does not have',
    file: 'tools/list_job_pods.yaml',
    edit: newTool(podsTool(podsStep).replace('data.count >= 0', 'data.cont >= 0')),
    want: /list_job_pods\.yaml:\d+:\d+: examples\.0\.expect: expression "data\.cont >= 0" does not compile: No such key: cont \(did you mean "count"\?\)/,
  },
  {
    name: 'a hint condition reading an output field the tool does not have',
    file: 'tools/list_job_pods.yaml',
    edit: newTool(
      podsTool(podsStep).replace(
        "next: Read one pod's output with get_training_logs(name)",
        "next:\n  - when: data.pod_count == 0\n    text: No pods yet; check get_training_events(name)\n  - text: Read one pod's output with get_training_logs(name)",
      ),
    ),
    want: /list_job_pods\.yaml:\d+:\d+: next\.0\.when: expression "data\.pod_count == 0" does not compile: No such key: pod_count/,
  },
  {
    name: 'a custom tool example reading a field its outputSchema does not declare',
    file: 'tools/pre_flight.yaml',
    edit: setIn(['examples', 0, 'expect'], "data.tool_selection.recommended == 'fine_tune' && data.gpus > 0"),
    want: /pre_flight\.yaml:\d+:\d+: examples\.0\.expect: expression .* No such key: gpus/,
  },
  {
    name: 'an example reading a field a call answer does not declare',
    file: 'tools/estimate_resources.yaml',
    edit: setIn(['examples', 0, 'expect'], 'data.gpu_count > 0'),
    want: /estimate_resources\.yaml:\d+:\d+: examples\.0\.expect: expression "data\.gpu_count > 0" does not compile: No such key: gpu_count/,
  },
  {
    name: 'a call of a function that does not exist',
    file: 'tools/get_server_logs.yaml',
    edit: setIn(['steps', 0, 'call'], 'server_log'),
    want: /get_server_logs\.yaml:\d+:\d+: steps\.0\.call: unknown function "server_log"; call steps run the functions of specs\/calls\.yaml \(did you mean "server_logs"\?\)/,
  },
  {
    name: 'a call argument the function does not take',
    file: 'tools/get_cluster_resources.yaml',
    edit: setIn(['steps', 0, 'with', 'max_node'], 'input.max_nodes'),
    want: /get_cluster_resources\.yaml:\d+:\d+: steps\.0\.with\.max_node: cluster_resources takes no argument "max_node" \(did you mean "max_nodes"\?\)/,
  },
  {
    name: 'a call argument of the wrong type',
    file: 'tools/get_server_logs.yaml',
    edit: setIn(['steps', 0, 'with', 'limit'], 'input.level'),
    want: /get_server_logs\.yaml:\d+:\d+: steps\.0\.with\.limit: expression "input\.level" has type string, but int is needed here/,
  },
  {
    name: 'an unknown error code in an example',
    file: 'tools/list_job_pods.yaml',
    edit: newTool(podsTool(podsStep).replace('    expect: "data.count >= 0"', '    error: VALIDATION_EROR')),
    want: /list_job_pods\.yaml:\d+:\d+: examples\.0\.error: must be equal to one of the allowed values: .* \(did you mean "VALIDATION_ERROR"\?\)/,
  },
  {
    name: 'a tool step running a tool that changes things',
    file: 'tools/list_job_pods.yaml',
    edit: newTool(podsTool(`${podsStep}\n  - id: del\n    tool: delete_training_job\n    with: {name: input.name}`)),
    want: /list_job_pods\.yaml:\d+:\d+: steps\.1\.tool: delete_training_job changes things; a tool step runs only read-only tools/,
  },
  {
    name: 'a tool step running a tool of a higher persona',
    file: 'tools/list_job_pods.yaml',
    edit: newTool(podsTool(`${podsStep}\n  - id: ctl\n    tool: inspect_controller`)),
    want: /steps\.1\.tool: inspect_controller is for ml-engineer and up, so not every caller of list_job_pods \(readonly\) may run it/,
  },
  {
    name: 'a tool step with an input the tool does not have',
    file: 'tools/list_job_pods.yaml',
    edit: newTool(
      podsTool(`${podsStep}\n  - id: job\n    tool: get_training_job\n    with: {name: input.name, nmespace: ns}`),
    ),
    want: /steps\.1\.with\.nmespace: get_training_job has no input "nmespace" \(did you mean "namespace"\?\)/,
  },
  {
    name: 'tool steps that go round in a circle',
    file: 'tools/list_job_pods.yaml',
    edit: newTool(podsTool(`${podsStep}\n  - id: again\n    tool: list_job_pods_too\n    with: {name: input.name}`)),
    more: [
      [
        'tools/list_job_pods_too.yaml',
        newTool(
          podsTool(`${podsStep}\n  - id: back\n    tool: list_job_pods\n    with: {name: input.name}`).replace(
            'name: list_job_pods',
            'name: list_job_pods_too',
          ),
        ),
      ],
    ],
    want: /tool steps may not go round in a circle/,
  },
  {
    name: 'a tool named like a meta-tool',
    file: 'tools/execute_tool.yaml',
    edit: newTool(podsTool(podsStep).replace('name: list_job_pods', 'name: execute_tool')),
    want: /execute_tool\.yaml:1:\d+: name: "execute_tool" is reserved: the server's meta-tools use it/,
  },
  {
    name: 'instructions over their token budget',
    file: 'instructions.yaml',
    edit: replace(
      '      JOBS\n',
      '      JOBS\n' + '      - Remember: '.concat('always read the guide first; '.repeat(40), '\n'),
    ),
    want: /specs\/budgets\.yaml:\d+:\d+: instructions\.minimal: .*|budgets\.yaml:\d+:\d+: instructions\.(full|compact): the \w+ instructions for [a-z-]+ are \d+ tokens, over the budget/,
  },
  {
    name: 'an advanced input that does not exist',
    file: 'tools/run_container_training.yaml',
    edit: replace('advanced: [scheduling, resources_per_node]', 'advanced: [scheduling, resources_per_nod]'),
    want: /run_container_training\.yaml:\d+:\d+: inputs\.advanced: "resources_per_nod" is neither an input nor an included group \(did you mean "resources_per_node"\?\)/,
  },
  {
    name: 'a required input marked advanced',
    file: 'tools/run_container_training.yaml',
    edit: replace('advanced: [scheduling, resources_per_node]', 'advanced: [scheduling, image]'),
    want: /run_container_training\.yaml:\d+:\d+: inputs\.advanced: "image" cannot be advanced: it is required or needed on every call/,
  },
  {
    name: 'advanced inputs on a tool without a preview',
    file: 'tools/get_training_logs.yaml',
    edit: replace('inputs:\n', 'inputs:\n  advanced: [container]\n'),
    want: /get_training_logs\.yaml:\d+:\d+: inputs\.advanced: only a tool that previews \(confirm: true\) may have advanced inputs/,
  },
  {
    name: 'a poll around a write',
    file: 'tools/update_training_job.yaml',
    edit: replace('preview:\n', 'poll: {every: "1", timeout: "10", until: "true"}\npreview:\n'),
    want: /update_training_job\.yaml:\d+:\d+: poll: a tool that polls may not have create, patch or delete steps/,
  },
  {
    name: 'a poll condition that is not a boolean',
    file: 'tools/wait_for_optimization.yaml',
    edit: replace(`until: "status == 'Complete' || status == 'Failed'"`, 'until: status'),
    want: /wait_for_optimization\.yaml:\d+:\d+: poll\.until: expression "status" has type string, but bool is needed here/,
  },
  {
    name: 'poll results in a tool that does not poll',
    file: 'tools/get_optimization_job.yaml',
    edit: replace('  name: job.metadata.name\n', '  name: job.metadata.name\n  waited: poll.waited_seconds\n'),
    want: /get_optimization_job\.yaml:\d+:\d+: output\.waited: expression "poll\.waited_seconds" does not compile: Unknown variable: poll/,
  },
  {
    name: 'an unknown key in a catalogue entry',
    file: 'catalogue.yaml',
    edit: replace(
      '{group: "", version: v1, kind: Secret, namespaced: true,',
      '{group: "", version: v1, kind: Secret, namespace: true,',
    ),
    want: /specs\/catalogue\.yaml:\d+:\d+: resources\.secrets\.namespace: unknown key "namespace" \(did you mean "namespaced"\?\)/,
  },
];

// Each case generates the whole corpus: seconds alone, tens of seconds on a loaded machine.
const GENERATE_TIMEOUT = 180_000;

describe('spec checks', () => {
  for (const c of cases) {
    it(
      `refuses ${c.name}`,
      async () => {
        const dir = specsWith([[c.file, c.edit], ...(c.more ?? [])].map(([f, e]) => [f, e]) as any);
        const handlerExists = (t: string) => custom(t);
        // As npm run gen calls it: the tools of the last generated output (without the case's new tool,
        // even where a contributor has added one of that name), to name the new ones.
        const previousTools = c.previous
          ? new Set(TOOLS.map((t) => t.name).filter((n) => n !== 'list_job_pods'))
          : undefined;
        let message = '';
        try {
          await generate(loadSpecs(dir, join(dir, 'schema'), ROOT), { handlerExists, previousTools });
        } catch (e) {
          message = (e as Error).message;
        }
        expect(message, 'the generator accepted the mistake').not.toBe('');
        expect(message).toMatch(c.want);
      },
      GENERATE_TIMEOUT,
    );
  }

  it(
    "accepts the guide's YAML-only read tool, within the budgets' headroom",
    async () => {
      const dir = specsWith([['tools/list_job_pods.yaml', newTool(podsTool(podsStep))]]);
      const files = await generate(loadSpecs(dir, join(dir, 'schema'), ROOT), { handlerExists: custom });
      expect(files.get('generated/tools/list_job_pods.ts')).toContain('jobset.sigs.k8s.io/jobset-name=');
      expect(files.get('generated/rbac/readonly.yaml')).toMatch(/- pods\n\s+verbs:\n\s+- list/);
    },
    GENERATE_TIMEOUT,
  );

  it(
    'accepts a tool composed of other tools, granting their permissions',
    async () => {
      const composed = podsTool(
        `${podsStep}\n  - id: cluster\n    tool: get_cluster_resources\n  - id: job\n    tool: get_training_job\n    with: {name: input.name, namespace: ns}`,
      ).replace(
        '  count: size(pods.items)',
        '  count: size(pods.items)\n  gpus_free: cluster.gpu_free\n  status: job.status',
      );
      const dir = specsWith([['tools/list_job_pods.yaml', newTool(composed)]]);
      const files = await generate(loadSpecs(dir, join(dir, 'schema'), ROOT), { handlerExists: custom });
      const text = files.get('generated/tools/list_job_pods.ts')!;
      expect(text).toContain('"tool":"get_cluster_resources"');
      // Its RBAC is the union of its own steps' and the tools' it runs (nodes from get_cluster_resources).
      expect(text).toMatch(/rbac: \[[^\]]*"resource":"nodes"/);
      expect(text).toMatch(/"gpus_free":\{"type":"integer"\}/);
    },
    GENERATE_TIMEOUT,
  );

  it(
    'refuses a handler file without handler: custom, and a custom spec without its file',
    async () => {
      const specs = () => loadSpecs(join(ROOT, 'specs'));
      await expect(generate(specs(), { handlerExists: () => true })).rejects.toThrow(
        /delete_training_job\.yaml:1:1: name: runtime\/handlers\/delete_training_job\.ts exists but the spec does not say handler: custom/,
      );
      await expect(generate(specs(), { handlerExists: (t) => custom(t) && t !== 'pre_flight' })).rejects.toThrow(
        /pre_flight\.yaml:\d+:\d+: handler: runtime\/handlers\/pre_flight\.ts does not exist/,
      );
    },
    GENERATE_TIMEOUT,
  );
});

describe('derived RBAC', () => {
  it('grants watch with every projected list, which the runtime keeps current by a watch', () => {
    let projected = 0;
    for (const t of TOOLS)
      for (const s of (t.operation?.steps ?? []) as Array<Record<string, any>>)
        if (typeof s.list === 'string' && s.project) {
          projected++;
          expect(t.rbac, `${t.name} lists ${s.list} projected`).toContainEqual({ verb: 'watch', resource: s.list });
        }
    expect(projected).toBeGreaterThan(0);
  });
});

describe('the lists the checker holds to', () => {
  it('reserves every meta-tool name', () => {
    for (const { name } of [EXECUTE, LIST, DESCRIBE, FIND]) expect(RESERVED_TOOL_NAMES).toContain(name);
  });
  it('knows exactly the error codes the runtime answers with', () => {
    // Both directions at the type level: the meta-schema's list is the runtime's ErrorCode.
    const same: [ErrorCode] extends [SpecErrorCode] ? ([SpecErrorCode] extends [ErrorCode] ? true : false) : false =
      true;
    expect(same).toBe(true);
  });
});

describe('generate', () => {
  it(
    'is deterministic and writes every tool, validator, RBAC manifest, instruction tier and doc page',
    async () => {
      const a = await generate(loadSpecs(join(ROOT, 'specs')), { handlerExists: custom });
      const b = await generate(loadSpecs(join(ROOT, 'specs')), { handlerExists: custom });
      expect([...a]).toEqual([...b]);
      const specs = loadSpecs(join(ROOT, 'specs'));
      expect([...a.keys()].filter((k) => k.startsWith('generated/tools/'))).toHaveLength(specs.tools.length);
      expect([...a.keys()].filter((k) => k.startsWith('generated/validators/'))).toHaveLength(specs.tools.length);
      expect([...a.keys()]).toEqual(
        expect.arrayContaining([
          'generated/index.ts',
          'generated/docs/tools.md',
          'generated/docs/instructions-minimal.md',
          'generated/rbac/platform-admin.yaml',
        ]),
      );
      for (const text of a.values()) expect(text).not.toMatch(/\/work\/|\d{4}-\d\d-\d\dT\d\d:\d\d/);
      // Generated code imports nothing from runtime/.
      for (const [path, text] of a)
        if (path.endsWith('.ts')) expect(text, path).not.toMatch(/from ['"][./]*runtime\/|import\(['"][./]*runtime\//);
    },
    GENERATE_TIMEOUT,
  );
});

describe("the README's generated blocks", () => {
  it('count the tools each persona is listed, per module set, and the prompts and guides, as the server serves them', () => {
    const text = readmeSummary(loadSpecs(join(ROOT, 'specs')));
    for (const persona of ['readonly', 'data-scientist', 'ml-engineer', 'platform-admin']) {
      const n = (clients: string[]) => selectTools({ persona, clients, policy: {} }).length;
      expect(text).toContain(`\`${persona}\` (${n(['trainer'])}, ${n(['trainer', 'optimizer'])} with optimizer`);
    }
    expect(text).toContain(`Prompts (${PROMPTS.length}): ${PROMPTS.map((p) => `\`${p.name}\``).join(', ')};`);
    expect(text).toContain(`Guides (${RESOURCES.length}):`);
  });

  it("quote the tool-search figure of the bench's last run, per split when it has them", () => {
    expect(
      readmeSearch({ date: '2026-01-02T00:00:00Z', figures: { ranker: { queries: 88, top1: 0.875, top3: 0.9659 } } }),
    ).toContain('on 88 requests, a right tool first for 87.5 % and in the top three for 96.6 %');
    // The bench's shape: per split, per persona and over all (persona, request) pairs.
    const of = (top1: number, top3: number) => ({ requests: 10, top1, top3, empty: 0 });
    const both = readmeSearch({
      figures: {
        ranker: {
          tuning: { queries: 100, all: of(0.9, 0.97), readonly: of(0.95, 1), 'ml-engineer': of(0.88, 0.96) },
          holdout: { queries: 50, all: of(0.86, 0.96), readonly: of(0.9, 1), 'platform-admin': of(0.8, 0.94) },
        },
      },
    });
    expect(both).toMatch(
      /tuning, 100 requests: a right tool first for 90\.0 % and in the top three for 97\.0 % \(weakest persona ml-engineer: 88\.0 % \/ 96\.0 %\)/,
    );
    expect(both).toMatch(
      /held out \(never tuned on\), 50 requests: a right tool first for 86\.0 % and in the top three for 96\.0 % \(weakest persona platform-admin: 80\.0 % \/ 94\.0 %\)/,
    );
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(readmeSearch(JSON.parse(readFileSync(join(ROOT, 'bench/results/latest.json'), 'utf8'))));
    // The figure is stated once, in the block, not again in the prose.
    const outside = readme.replace(/<!-- generated:search -->[\s\S]*?<!-- \/generated:search -->/, '');
    expect(outside).not.toMatch(/in the top three for/);
  });
});
