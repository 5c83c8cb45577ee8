// Recognises common training failures in log text and says what to do about them; finds which
// step of a job failed (an initializer may fail before the trainer node ever starts); and tells a
// gated model submitted without a token from the job itself, before any log is read.
import type { Obj } from '../k8s/client.ts';
import { isGated } from './models.ts';
import { RJOB_LABEL } from './views.ts';

const HF_AUTH = (line: string) => {
  const id = /huggingface\.co\/(?:datasets\/)?([\w.-]+\/[\w.-]+)/.exec(line)?.[1];
  return `${id ?? 'The model or dataset'} is gated or private and the job had no Hugging Face token that may read it: submit again with hf_token=<a token of an account that accepted its licence on huggingface.co> (fine_tune keeps it in a Secret the initializers read).`;
};

const RULES: Array<{ re: RegExp; category: string; suggestion: string | ((line: string) => string) }> = [
  {
    re: /CUDA out of memory|OutOfMemoryError/i,
    category: 'OOM',
    suggestion: 'Lower batch_size, use LoRA or QLoRA, or request GPUs with more memory (see estimate_resources).',
  },
  {
    re: /RuntimeError: CUDA error|NCCL error/i,
    category: 'CUDA_ERROR',
    suggestion: 'A GPU or NCCL failure; check the driver and that all nodes have GPUs of the same type.',
  },
  {
    re: /ModuleNotFoundError: No module named/i,
    category: 'MISSING_MODULE',
    suggestion: 'Add the package to packages=[...] or use an image that contains it.',
  },
  {
    re: /ImportError/i,
    category: 'IMPORT_ERROR',
    suggestion: 'A package is missing or has the wrong version for this image.',
  },
  {
    re: /401 Client Error|403 Client Error|Unauthorized for url|gated repo|Cannot access gated repo/i,
    category: 'HF_AUTH',
    suggestion: HF_AUTH,
  },
  {
    re: /FileNotFoundError/i,
    category: 'FILE_NOT_FOUND',
    suggestion: 'A path does not exist in the container; check the dataset path and volume mounts.',
  },
  {
    re: /Permission denied: '\/\.(local|cache)/i,
    category: 'READ_ONLY_HOME',
    suggestion:
      'The container cannot write its home directory (common on OpenShift); mount an emptyDir there or set HOME to /workspace.',
  },
  {
    re: /PermissionError|Access Denied/i,
    category: 'PERMISSION_ERROR',
    suggestion: 'The process lacks permission on a file or bucket; check the securityContext and credentials.',
  },
  {
    re: /Connection(Error|Refused|Reset)/i,
    category: 'NETWORK_ERROR',
    suggestion: 'A network call failed; check egress, proxies and the master address for multi-node jobs.',
  },
  {
    re: /Traceback \(most recent call last\)/,
    category: 'PYTHON_EXCEPTION',
    suggestion: 'The script raised an exception; the last lines of the log show which.',
  },
];

export function diagnose(text: string): { category: string; suggestion: string; line: string } | undefined {
  for (const r of RULES) {
    const m = text.match(new RegExp(`^.*(?:${r.re.source}).*$`, r.re.flags.includes('i') ? 'im' : 'm'));
    if (m)
      return {
        category: r.category,
        suggestion: typeof r.suggestion === 'string' ? r.suggestion : r.suggestion(m[0]),
        line: m[0].trim().slice(0, 300),
      };
  }
  return undefined;
}

/** Steps in the order they run: the initializers first, then the trainer. */
const ORDER = ['dataset-initializer', 'model-initializer', 'launcher', 'node'];

/** The pod of the step that failed first (an initializer before the trainer), if any pod failed. */
export function failedPodOf(pods: Obj[]): Obj | undefined {
  const failed = pods.filter(
    (p) =>
      p.status?.phase === 'Failed' ||
      (p.status?.containerStatuses ?? []).some(
        (c: any) => c.state?.terminated?.exitCode > 0 || c.lastState?.terminated?.exitCode > 0,
      ),
  );
  const rank = (p: Obj) => {
    const i = ORDER.indexOf(p.metadata?.labels?.[RJOB_LABEL]);
    return i < 0 ? ORDER.length : i;
  };
  return failed.sort((a, b) => rank(a) - rank(b))[0];
}

/** A job whose gated Hugging Face model (or dataset) was given no credentials: known from its spec alone. */
export function missingTokenDiagnosis(
  job: Obj,
): { category: string; step: string; suggestion: string; line: string } | undefined {
  const init = job.spec?.initializer ?? {};
  for (const [what, step] of [
    ['model', 'model-initializer'],
    ['dataset', 'dataset-initializer'],
  ] as const) {
    const uri: string | undefined = init[what]?.storageUri;
    if (!uri?.startsWith('hf://') || !isGated(uri)) continue;
    const hasToken =
      !!init[what]?.secretRef?.name ||
      (init[what]?.env ?? []).some((e: any) => ['ACCESS_TOKEN', 'HF_TOKEN'].includes(e.name));
    if (hasToken) continue;
    const id = uri.replace(/^hf:\/\//, '');
    return {
      category: 'HF_AUTH',
      step,
      line: `${what} ${id}: gated, and the job has no token`,
      suggestion: `${id} is gated on Hugging Face and the job was submitted without a token, so its ${step} step fails before training starts: submit again with hf_token=<a token of an account that accepted its licence on huggingface.co> (fine_tune keeps it in a Secret).`,
    };
  }
  return undefined;
}
