// The generator's one intermediate representation: the specs, checked, with every fact the emitters
// need derived once per tool (input schemas in each advertised form, the output schema, RBAC, the
// server fields its expressions read, its guard, its tools/list entry and what that costs in
// tokens) and once per corpus (persona tool sets, instruction and guide sources). Every emitter
// (generate.ts, site.ts, helm.ts, views.ts) is a function of it; none recomputes a fact.
import AjvModule from 'ajv';
import { encode as countTokensOf } from 'gpt-tokenizer/encoding/o200k_base';
import { assembleInstructions, type InstructionSource, type Tier } from './assemble-instructions.ts';
import { baseEnvironment, serverFieldsRead, type ServerField } from './cel-types.ts';
import { checkSpecs, makeHintChecker, referencesOf, type CheckOptions } from './check.ts';
import { GUARDS, type Guard } from './guards.ts';
import type { Specs, ToolSpec } from './load.ts';
import { analyseTool, type ToolAnalysis } from './operations.ts';
import { parseGuide, toolsIn, type GuideBlock, type ReferenceContext } from './references.ts';
import {
  advertisedAnnotations,
  advertisedOutputSchema,
  advertisedSchema,
  envelopeSchema,
  inputSchemaOf,
  listingEntry,
  moreOptions,
  type InputSchema,
} from './schemas.ts';
import type { Problems } from './source.ts';
import type { Operation } from './descriptor.ts';
import type { RbacRule } from '../generated/spec-types.ts';

const Ajv = (AjvModule as any).default ?? AjvModule;
const countTokens = (text: string) => countTokensOf(text).length;

export const TIERS: Tier[] = ['full', 'compact', 'minimal'];

/** One tool with everything derived from its spec. */
export interface ToolIR {
  name: string;
  spec: ToolSpec;
  /** runtime/handlers/<name>.ts computes its answer (handler: custom). */
  custom: boolean;
  /** What the validator enforces: refs inlined, no extra keys. */
  inputSchema: InputSchema;
  /** As describe_tools shows it (validation-only keywords removed). */
  advertisedInput: Record<string, unknown>;
  /** As tools/list sends it: compact, without the advanced inputs and the context input. */
  listedInput: Record<string, unknown>;
  /** Advanced input -> its one-line summary, as the preview lists them. */
  moreOptions: Record<string, string>;
  /** The answer's data: inferred from the output (declarative) or declared (custom). */
  outputSchema: Record<string, unknown>;
  /** The envelope around it, and the relaxed form describe_tools shows. */
  envelope: Record<string, unknown>;
  listedOutput: Record<string, unknown>;
  rbac: RbacRule[];
  /** The operation the executor runs; null for a custom tool. */
  operation: Operation | null;
  /** The `server` fields its expressions read (the executor computes only these). */
  serverFields: ServerField[];
  /** Its ownership guard, resolved from guards.ts. */
  guard?: Guard;
  listedAnnotations: Record<string, boolean>;
  /** Its tools/list entry, exactly as sent, and its o200k size. */
  listing: ReturnType<typeof listingEntry>;
  listingTokens: number;
}

export interface IR {
  specs: Specs;
  /** Every tool, sorted by name. */
  tools: ToolIR[];
  tool: (name: string) => ToolIR;
  /** Persona -> the tools it may call (its own and inherited ones), sorted. */
  personaTools: Record<string, string[]>;
  instructionSource: InstructionSource;
  references: ReferenceContext;
  /** Each guide as blocks the runtime assembles per caller. */
  guides: Map<string, GuideBlock[]>;
  /** The prompts, each with the tools its text names. */
  prompts: Array<Specs['prompts'][number] & { tools: string[] }>;
  /** Per tool, its output schema and RBAC (the shape the views check takes). */
  analyses: Map<string, ToolAnalysis>;
}

/**
 * Checks the specs and derives the IR. Every problem of the whole corpus is collected first (the
 * meta-schemas, cross-file references, the meaning of each operation, example inputs, budgets) and
 * thrown together, so one run of the generator reports them all.
 */
export function buildIR(specs: Specs, opts: CheckOptions): IR {
  const problems = specs.problems;
  checkSpecs(specs, opts, problems);
  const base = baseEnvironment(specs.catalogue, specs.functions, specs.calls);
  const hint = makeHintChecker(specs, problems);
  const ajv = new Ajv({ useDefaults: true, allErrors: true, strict: false, allowUnionTypes: true });
  // A tool step reads the output schema and RBAC of the tool it runs: analyse tools after the ones
  // they run (a circle leaves its members unanalysed when their turn comes, and is reported).
  const analyses = new Map<string, ToolAnalysis>();
  const inProgress = new Set<string>();
  const specOf = new Map(specs.tools.map((t) => [t.name, t]));
  const analyse = (name: string): ToolAnalysis | undefined => {
    const t = specOf.get(name);
    if (!t || inProgress.has(name)) return undefined;
    if (!analyses.has(name)) {
      inProgress.add(name);
      analyses.set(
        name,
        analyseTool(specs, t, { ...base, callee: analyse }, inputSchemaOf(t, specs.defs), problems, (path, text) =>
          hint(t.source, path, text),
        ),
      );
      inProgress.delete(name);
    }
    return analyses.get(name);
  };
  const tools = [...specs.tools]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((t): ToolIR => {
      const inputSchema = inputSchemaOf(t, specs.defs);
      const a = analyse(t.name)!;
      let validate: any;
      try {
        validate = ajv.compile(inputSchema);
      } catch (e) {
        problems.at(t.source, ['inputs'], `input schema does not compile: ${(e as Error).message}`);
      }
      if (validate)
        t.examples.forEach((ex, i) => {
          if (!validate(structuredClone(ex.input)) && ex.error !== 'VALIDATION_ERROR')
            problems.at(
              t.source,
              ['examples', i, 'input'],
              `is not valid input: ${validate.errors.map((e: any) => `${e.instancePath || '(input)'} ${e.message}`).join('; ')}`,
            );
        });
      const custom = t.handler === 'custom';
      const operation = custom
        ? null
        : ({
            steps: t.steps,
            output: t.output,
            ...(t.preview ? { preview: t.preview } : {}),
            ...(t.poll ? { poll: t.poll } : {}),
          } as Operation);
      const listing = listingEntry(t, inputSchema);
      return {
        name: t.name,
        spec: t,
        custom,
        inputSchema,
        advertisedInput: advertisedSchema(inputSchema),
        listedInput: listing.inputSchema,
        moreOptions: moreOptions(t, inputSchema),
        outputSchema: a.outputSchema,
        envelope: envelopeSchema(a.outputSchema),
        listedOutput: advertisedOutputSchema(a.outputSchema),
        rbac: a.rbac,
        operation,
        serverFields: operation ? serverFieldsRead(operation) : [],
        ...(t.guard && t.guard in GUARDS ? { guard: GUARDS[t.guard as keyof typeof GUARDS] } : {}),
        listedAnnotations: advertisedAnnotations(t),
        listing,
        listingTokens: countTokens(JSON.stringify(listing)),
      };
    });
  const byName = new Map(tools.map((t) => [t.name, t]));
  const references = referencesOf(specs);
  const ir = {
    specs,
    tools,
    tool: (name: string) => byName.get(name)!,
    personaTools: personaTools(specs),
    instructionSource: instructionSource(specs, references),
    references,
    guides: new Map(specs.resources.map((r) => [r.uri, parseGuide(r.text, references).blocks])),
    prompts: specs.prompts.map((p) => ({ ...p, tools: toolsIn(p.text, references.allTools) })),
    analyses: new Map(tools.map((t) => [t.name, { outputSchema: t.outputSchema, rbac: t.rbac }])),
  };
  checkBudgets(ir, problems, opts);
  problems.throwIfAny();
  return ir;
}

/** Persona -> every tool it may call (own tools plus inherited ones). */
export function personaTools(specs: Specs): Record<string, string[]> {
  const personas = specs.personas.personas;
  const chain = (p: string, seen: string[] = []): string[] =>
    personas[p]?.inherits && !seen.includes(p) ? [p, ...chain(personas[p].inherits!, [...seen, p])] : [p];
  return Object.fromEntries(
    Object.keys(personas).map((p) => {
      const allowed = new Set(chain(p));
      return [
        p,
        specs.tools
          .filter((t) => allowed.has(t.persona))
          .map((t) => t.name)
          .sort(),
      ];
    }),
  );
}

function instructionSource(specs: Specs, references: ReferenceContext): InstructionSource {
  return {
    header: specs.instructions.header,
    sections: specs.instructions.sections.map((s) => ({ tools: s.tools, lines: s.text.trim().split('\n') })),
    resources: specs.resources.map((r) => ({
      uri: r.uri,
      description: r.description,
      ...(r.module
        ? {
            tools: specs.tools
              .filter((t) => t.module === r.module)
              .map((t) => t.name)
              .sort(),
          }
        : {}),
    })),
    ...references,
  };
}

/** Token budgets (specs/budgets.yaml): the full-mode tools/list answer per persona with the default
 * modules, and the instructions of every persona per tier, measured as the server sends them. Over
 * a budget is an error that names what pushed it over: the tools new since the last `npm run gen`
 * (opts.previousTools), else the largest entries. Under it, but with less left than the headroom
 * budgets.yaml keeps, is a note, so the budget is raised on purpose before a contributor runs out. */
function checkBudgets(ir: Omit<IR, 'analyses'>, problems: Problems, opts: CheckOptions) {
  const { specs } = ir;
  const file = specs.sources.get('budgets.yaml');
  if (!file) return;
  const enabled = new Set(
    Object.entries(specs.modules)
      .filter(([, m]) => m.default || m.always)
      .map(([k]) => k),
  );
  const pt = ir.personaTools;
  const src = ir.instructionSource;
  const headroom = specs.budgets.headroom ?? {};
  const note = (text: string) => opts.notes?.(`budgets.yaml: ${text}`);
  for (const [persona, names] of Object.entries(pt)) {
    // As a one-context server lists them (the usual case): no context input, no context tools.
    const served = names.map((n) => ir.tool(n)).filter((t) => enabled.has(t.spec.module) && !t.spec.needs);
    const n = countTokens(JSON.stringify({ tools: served.map((t) => t.listing) }));
    const budget = specs.budgets.tools_list[persona];
    if (budget !== undefined && n > budget) {
      const cost = served.map((t) => ({ name: t.name, tokens: t.listingTokens }));
      const fresh = opts.previousTools ? cost.filter((c) => !opts.previousTools!.has(c.name)) : [];
      const culprit = fresh.length
        ? `pushed over by ${fresh.map((c) => `${c.name} (${c.tokens} tokens, new since the last npm run gen)`).join(', ')}`
        : `its largest entries: ${[...cost]
            .sort((a, b) => b.tokens - a.tokens || a.name.localeCompare(b.name))
            .slice(0, 3)
            .map((c) => `${c.name} (${c.tokens})`)
            .join(', ')}`;
      problems.at(
        file,
        ['tools_list', persona],
        `tools/list for ${persona} is ${n} tokens, over its budget of ${budget} by ${n - budget}; ${culprit}: trim descriptions or schemas, or raise the budget on purpose`,
      );
    } else if (budget !== undefined && headroom.tools_list !== undefined && budget - n < headroom.tools_list) {
      note(
        `tools/list for ${persona} has ${budget - n} tokens left, less than the ${headroom.tools_list} of headroom kept per persona; raise tools_list.${persona} to at least ${n + headroom.tools_list}`,
      );
    }
    for (const tier of TIERS) {
      const limit = (specs.budgets.instructions as Record<string, number>)[tier];
      const m = countTokens(assembleInstructions(src, new Set(served.map((t) => t.name)), tier));
      if (limit !== undefined && m > limit)
        problems.at(
          file,
          ['instructions', tier],
          `the ${tier} instructions for ${persona} are ${m} tokens, over the budget of ${limit} by ${m - limit}`,
        );
      else if (limit !== undefined && headroom.instructions !== undefined && limit - m < headroom.instructions)
        note(
          `the ${tier} instructions for ${persona} have ${limit - m} tokens left, less than the ${headroom.instructions} of headroom kept; raise instructions.${tier} to at least ${m + headroom.instructions}`,
        );
    }
  }
}
