// Ordinary English and Kubernetes words grouped by what they ask for: verb classes (delete,
// change, create, ...), objects (a job, a runtime, a sweep, ...) and symptoms. The same lexicon
// reads the requests and the tools' own specs (name, title, description, keywords, inputs), so a
// request and a tool meet on a class even when they share no word. Nothing here names a tool.
import { stemmer } from 'stemmer';

export type Concept =
  // what the caller wants done
  | 'delete'
  | 'update'
  | 'create'
  | 'control'
  | 'status'
  | 'list'
  | 'detail'
  | 'logs'
  | 'events'
  | 'crash'
  | 'why'
  | 'wait'
  | 'run'
  | 'finetune'
  | 'script'
  | 'container'
  | 'estimate'
  | 'capacity'
  | 'free'
  | 'connect'
  | 'server'
  | 'compat'
  | 'plan'
  | 'context'
  | 'crd'
  | 'controller'
  | 'hpo'
  | 'best'
  | 'version'
  | 'complete'
  // what it is about
  | 'job'
  | 'runtime'
  | 'model'
  | 'dataset'
  | 'cluster'
  | 'pod'
  | 'step'
  | 'env';

/** Words and phrases (lower case, spaces between words) per class. A word may carry a weight
 * below 1 when it only sometimes means the class. */
const CLASSES: Record<Concept, Array<string | [string, number]>> = {
  delete: [
    'delete',
    'remove',
    'drop',
    'nuke',
    'kill',
    'destroy',
    'erase',
    'purge',
    'wipe',
    'trash',
    'cancel',
    'abort',
    'terminate',
    'uninstall',
    'deregister',
    'unregister',
    'clean up',
    'cleanup',
    'clear out',
    'get rid of',
    'tear down',
    'teardown',
    'rm',
    'del',
    'scrap',
    'discard',
    'throw away',
    'dispose',
    'retire',
    'decommission',
    'axe',
    'zap',
    'ditch',
    ['stop', 0.5],
    ['clean', 0.6],
  ],
  update: [
    'update',
    'change',
    'bump',
    'edit',
    'modify',
    'patch',
    'alter',
    'tweak',
    'adjust',
    'upgrade',
    'downgrade',
    'replace',
    'swap',
    'rename',
    'increase',
    'decrease',
    'raise',
    'lower',
    'reduce',
    'configure',
    'reconfigure',
    'override',
    'pin',
    'amend',
    'merge',
    'point',
    'switch',
    'add env',
    'set env',
    ['set', 0.8],
    ['put', 0.6],
    ['fix', 0.4],
  ],
  create: [
    'create',
    'register',
    'new',
    'make',
    'define',
    'set up',
    'setup',
    'introduce',
    'onboard',
    'provision',
    'publish',
    'build',
    'author',
    'declare',
    ['add', 0.8],
    ['install', 0.6],
  ],
  control: [
    'suspend',
    'pause',
    'hold',
    'halt',
    'freeze',
    'resume',
    'unpause',
    'unsuspend',
    'unfreeze',
    'continue',
    'restart',
    'on hold',
    'temporarily',
    'for now',
    'for a while',
    'later',
    ['stop', 0.5],
    ['free up', 0.5],
  ],
  status: [
    'status',
    'state',
    'progress',
    'phase',
    'condition',
    'conditions',
    'how far',
    'eta',
    'percent',
    'doing',
    'stage',
    'how is',
    'how s',
    'going',
    'yet',
    'still',
    'ready',
    'alive',
    ['running', 0.5],
    ['succeeded', 0.5],
    ['failed', 0.4],
  ],
  complete: [
    'finish',
    'finished',
    'done',
    'complete',
    'completed',
    'completion',
    'wrap up',
    'wraps up',
    'succeed',
    'succeeds',
    'succeeded',
    'is over',
    'ends',
    'ended',
  ],
  list: [
    'list',
    'all',
    'every',
    'each',
    'overview',
    'enumerate',
    'inventory',
    ['which', 0.5],
    ['any', 0.5],
    'count',
    'summary',
    'exist',
    'queue',
    'queued',
    ['how many', 0.5],
    ['have', 0.5],
    ['show', 0.4],
  ],
  detail: [
    'detail',
    'details',
    'describe',
    'info',
    'information',
    'inspect',
    'inside',
    'everything about',
    'spec',
    'look at',
    'about',
    'get',
    'one',
    'single',
    ['show', 0.5],
    ['what', 0.3],
  ],
  logs: [
    'log',
    'logs',
    'output',
    'stdout',
    'stderr',
    'print',
    'printed',
    'trace',
    'traceback',
    'stack trace',
    'tail',
    'console',
    'loss',
    'said',
    'say',
    'message',
    'messages',
    'verbose',
    'log lines',
  ],
  events: [
    'event',
    'events',
    'warning',
    'warnings',
    'pending',
    'stuck',
    'schedule',
    'scheduled',
    'scheduling',
    'unschedulable',
    'failedscheduling',
    'imagepullbackoff',
    'errimagepull',
    'image pull',
    'pull',
    'evicted',
    'eviction',
    'insufficient',
    'not starting',
    'not started',
    'never started',
    'hasn t started',
    'won t start',
    'not start',
    'containercreating',
    'taint',
    'preempted',
    'queued',
    'forever',
    'ages',
    'minutes',
    'hours',
    'sitting',
    'waiting',
    'kubernetes saying',
    'k8s saying',
    'backoff',
  ],
  crash: [
    'crash',
    'crashed',
    'crashes',
    'crashing',
    'traceback',
    'exception',
    'oom',
    'oomkilled',
    'out of memory',
    'cuda',
    'died',
    'dead',
    'exit code',
    'crashloopbackoff',
    'crashloop',
    'crashlooping',
    'segfault',
    'nan',
    'error message',
    'stack trace',
    'blew up',
    'fell over',
    'broke',
  ],
  why: [
    'why',
    'error',
    'errors',
    'fail',
    'fails',
    'failing',
    'failure',
    'failures',
    'broken',
    'problem',
    'issue',
    'wrong',
    'debug',
    'troubleshoot',
    'diagnose',
    'diagnosis',
    'diagnostics',
    'what gives',
    'what happened',
    'went wrong',
    'no idea',
    'not working',
    'help',
    ['failed', 0.6],
  ],
  wait: [
    'wait',
    'until',
    'till',
    'block',
    'notify',
    'tell me when',
    'let me know',
    'let me know when',
    ['once', 0.5],
    'ping me',
    'alert me',
    'watch',
    'keep watching',
    'keep an eye',
    'follow',
    'hang on',
    'poll',
    'when it s done',
    'when finished',
    'when done',
  ],
  run: [
    'run',
    'launch',
    'start',
    'kick off',
    'submit',
    'execute',
    'fire off',
    'spin up',
    ['go', 0.3],
    'train',
    ['use', 0.4],
  ],
  finetune: [
    'fine tune',
    'finetune',
    'fine tuning',
    'finetuning',
    'instruction tuning',
    'instruct tuning',
    'ft',
    'sft',
    'lora',
    'qlora',
    'dora',
    'peft',
    'adapt',
    'adapter',
    'instruct',
    'instruction',
    'teach',
    'chat model',
    'dpo',
    'torchtune',
    'llm',
  ],
  script: [
    'script',
    'code',
    'function',
    'python',
    'py',
    'torchrun',
    'pytorch',
    'file',
    'notebook',
    'pip',
    'package',
    'packages',
  ],
  container: [
    'image',
    'container',
    'docker',
    'dockerfile',
    'registry',
    'oci',
    'entrypoint',
    'ghcr',
    'dockerhub',
    'quay',
    'nvcr',
    'tag',
  ],
  estimate: [
    'estimate',
    'fit',
    'fits',
    'vram',
    'memory',
    'how much',
    'need',
    'size',
    'sizing',
    'requirement',
    'requirements',
    'footprint',
    'enough memory',
    'budget',
    'calculate',
  ],
  capacity: [
    'gpu',
    'gpus',
    'capacity',
    'accelerator',
    'accelerators',
    'nvidia',
    'amd',
    'a100',
    'a100s',
    'h100',
    'h100s',
    'h200',
    'l4',
    't4',
    'v100',
    'mi300',
    'mi250',
    'tpu',
    'mig',
    'cpu',
    'cpus',
    'hardware',
    'node',
    'nodes',
    'card',
    'cards',
  ],
  free: [
    'free',
    'available',
    'allocatable',
    'allocated',
    'spare',
    'idle',
    'unused',
    'right now',
    'currently',
    'at the moment',
    'utilization',
    'utilisation',
    'loaded',
    'busy',
    'occupied',
    'requested',
    'headroom',
    'left',
  ],
  connect: [
    'connect',
    'connected',
    'connection',
    'connectivity',
    'reach',
    'reachable',
    'alive',
    'ping',
    'health',
    'healthy',
    'online',
    'working',
    'responding',
    'respond',
    'are you there',
    'talk to',
    'communicate',
    'uptime',
    'up',
    'sanity',
    'works',
    'down',
    'ok',
  ],
  server: ['you', 'u', 'your', 'yourself', 'server', 'mcp', 'kubeflow mcp'],
  compat: [
    'compatible',
    'compatibility',
    'permission',
    'permissions',
    'allowed',
    'rbac',
    'can i',
    'authorized',
    'authorised',
    'access',
    'supported',
    'support',
    'installed',
    'prerequisite',
    'prerequisites',
    'openshift',
    'eks',
    'gke',
    'aks',
    'platform',
    'blocker',
    'blockers',
    'won t work',
    ['can this', 0.8],
    ['can we', 0.8],
    ['can it', 0.8],
    ['able to', 0.8],
    ['capable', 0.8],
  ],
  plan: [
    'plan',
    'begin',
    'first',
    'recommend',
    'recommendation',
    'where do i start',
    'where to start',
    'which tool',
    'before',
    'preflight',
    'pre flight',
    'advice',
    'suggest',
    'should i use',
    'getting started',
  ],
  context: [
    'context',
    'contexts',
    'kubeconfig',
    'kube context',
    'clusters',
    'staging',
    'production',
    'prod',
    'environment',
    'environments',
    'point you at',
  ],
  crd: [
    'crd',
    'crds',
    'customresourcedefinition',
    'custom resource',
    'definitions',
    'api version',
    'api versions',
    'schema',
    'fields',
    'served',
    'v1alpha1',
    'v1beta1',
    'v1',
    'api',
  ],
  controller: ['controller', 'operator', 'manager', 'webhook', 'controller manager'],
  hpo: [
    'optimization job',
    'optimization jobs',
    'tuning job',
    'tuning jobs',
    'search job',
    'sweep job',
    'hpo job',
    'hpo jobs',
    'hpo',
    'sweep',
    'sweeps',
    'hyperparameter',
    'hyperparameters',
    'hyper parameter',
    'search',
    'searches',
    'trial',
    'trials',
    'experiment',
    'experiments',
    'katib',
    'tuning',
    'tune',
    'grid',
    'random search',
    'learning rate',
    'lr',
    'combos',
    'combination',
    'combinations',
    'optimize',
    'optimise',
    'optimization',
    'params',
    'parameters',
  ],
  best: ['best', 'winner', 'won', 'win', 'optimal', 'optimum', 'winning', 'top'],
  version: ['version', 'versions'],
  job: ['job', 'jobs', 'trainjob', 'trainjobs', 'training job', 'workload', ['training', 0.6], ['experiment', 0.3]],
  runtime: [
    'runtime',
    'runtimes',
    'clustertrainingruntime',
    'clustertrainingruntimes',
    'trainingruntime',
    'trainingruntimes',
    'template',
    'templates',
    'framework',
    'frameworks',
    'cluster wide',
  ],
  model: [
    'model',
    'models',
    'llama',
    'gemma',
    'qwen',
    'mistral',
    'mixtral',
    'phi',
    'deepseek',
    'falcon',
    'gpt',
    'bert',
    'opt',
    'bloom',
    'granite',
    'olmo',
    'smollm',
  ],
  dataset: ['dataset', 'datasets', 'data', 'corpus', 'jsonl', 'csv', 'parquet', 'alpaca', 'tickets'],
  cluster: ['cluster', 'kubernetes', 'k8s', 'kube'],
  pod: ['pod', 'pods', 'replica', 'replicas'],
  step: ['worker', 'step', 'launcher'],
  env: ['env', 'env var', 'environment variable', 'variable'],
};

/** Stems of a lower-case word list (the lexicon and the texts are both stemmed). */
export const stem = (w: string) => stemmer(w);

interface Entry {
  concept: Concept;
  weight: number;
  words: string[];
  stems: string[];
}
const ENTRIES: Entry[] = Object.entries(CLASSES).flatMap(([c, ws]) =>
  ws.map((w) => {
    const [text, weight] = typeof w === 'string' ? [w, 1] : w;
    const words = text.split(' ');
    return { concept: c as Concept, weight, words, stems: words.map(stem) };
  }),
);
/** Entries by the stem of their first word, phrases (longest) first. */
const BY_FIRST = new Map<string, Entry[]>();
for (const e of [...ENTRIES].sort((a, b) => b.words.length - a.words.length)) {
  const list = BY_FIRST.get(e.stems[0]) ?? [];
  list.push(e);
  BY_FIRST.set(e.stems[0], list);
}
/** Every word the lexicon knows, as written and stemmed (for typo correction). */
export const LEXICON_WORDS = new Set(ENTRIES.flatMap((e) => [...e.words, ...e.stems]));

export type Concepts = Map<Concept, number>;

/** The classes a sequence of lower-case words mentions, each with its strongest weight. Phrases
 * are matched before single words, and a word inside a matched phrase is not read again. A word
 * written exactly as in the lexicon takes only the classes of that spelling ("running" is a
 * status, "run" a verb); otherwise words meet by their stems ("crashes" ~ "crash"). */
export function conceptsOf(words: string[], scale = 1, into: Concepts = new Map()): Concepts {
  const stems = words.map(stem);
  const used = new Array(words.length).fill(false);
  // An entry written in an inflected form ("doing") does not match the bare word ("do").
  const meets = (word: string, st: string, entry: string, entryStem: string) =>
    word === entry || (st === entryStem && (entry === entryStem || word !== st));
  const at = (e: Entry, i: number, j: number) => meets(words[i + j], stems[i + j], e.words[j], e.stems[j]);
  for (let i = 0; i < words.length; i++) {
    if (used[i]) continue;
    const candidates = BY_FIRST.get(stems[i]) ?? [];
    const phrase = candidates.find(
      (e) => e.words.length > 1 && e.words.every((_, j) => i + j < words.length && !used[i + j] && at(e, i, j)),
    );
    if (phrase) {
      // Every class of that same phrase (a phrase may belong to two classes).
      for (const e of candidates)
        if (e.words.join(' ') === phrase.words.join(' '))
          into.set(e.concept, Math.max(into.get(e.concept) ?? 0, e.weight * scale));
      for (let j = 0; j < phrase.words.length; j++) used[i + j] = true;
      continue;
    }
    const singles = candidates.filter((e) => e.words.length === 1 && at(e, i, 0));
    const exact = singles.filter((e) => e.words[0] === words[i]);
    for (const e of exact.length ? exact : singles)
      into.set(e.concept, Math.max(into.get(e.concept) ?? 0, e.weight * scale));
  }
  return into;
}

/** Verb classes: what a request asks to be done, as opposed to what it is about. */
export const WRITE_VERBS: Concept[] = ['delete', 'update', 'create', 'control'];
export const VERB_CLASSES = new Set<Concept>([...WRITE_VERBS, 'list', 'detail', 'run', 'wait', 'estimate', 'status']);

/** Kubernetes resource kinds, as the RBAC rules of a tool name them, and the class of each. */
export const KIND_CONCEPT: Record<string, Concept> = {
  trainjobs: 'job',
  jobs: 'job',
  jobsets: 'job',
  trainingruntimes: 'runtime',
  clustertrainingruntimes: 'runtime',
  optimizationjobs: 'hpo',
  nodes: 'capacity',
  pods: 'pod',
  events: 'events',
  customresourcedefinitions: 'crd',
  selfsubjectaccessreviews: 'compat',
  'pods/log': 'logs',
};

/** Everyday English words that are never typos of a tool's words ("last" is not "list"). */
export const COMMON_WORDS = new Set(
  `a about above after again against ago all almost along already also always am an and another
any anything anyway are around as ask at away back bad be because been before being below best better between big bit both
but by call came can cannot case cause come could day days did different do does doing done down during each early either
else end enough even ever every everything example far few find fine first for found from full get gets getting give given
go goes going gone good got great had half hand happen happened hard has have having he her here high him his hold home how
however i if im in into is it its itself just keep kind know last late later least left less let like likely line little
long look lot lots low made main make many may maybe me mean might mine more most much must my need never new next nice no
none nor not nothing now of off often oh ok okay old on once one only onto or other others our out over own part past
per please point pretty put quick quickly quite rather real really right said same saw say see seem seems seen set several
shall she should show side since small so some something soon sort still stuff such sure take taken than thank thanks that
the their them then there these they thing things think this those though through thus till time to today together too took
top toward try trying turn two under until up upon us use used very want wanted was way we week well went were what whatever
when where whether which while who whole why will with within without work would yeah year yes yet you your yours`.split(
    /\s+/,
  ),
);

/** Damerau-Levenshtein distance, at most `max` (returns max + 1 beyond it). */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    let rowMin = Infinity;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      rowMin = Math.min(rowMin, d[i][j]);
    }
    if (rowMin > max) return max + 1;
  }
  return d[a.length][b.length];
}
