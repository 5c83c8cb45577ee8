// Recognises common training failures in log text and says what to do about them.
const RULES: Array<{ re: RegExp; category: string; suggestion: string }> = [
  { re: /CUDA out of memory|OutOfMemoryError/i, category: 'OOM', suggestion: 'Lower batch_size, use LoRA or QLoRA, or request GPUs with more memory (see estimate_resources).' },
  { re: /RuntimeError: CUDA error|NCCL error/i, category: 'CUDA_ERROR', suggestion: 'A GPU or NCCL failure; check the driver and that all nodes have GPUs of the same type.' },
  { re: /ModuleNotFoundError: No module named/i, category: 'MISSING_MODULE', suggestion: 'Add the package to packages=[...] or use an image that contains it.' },
  { re: /ImportError/i, category: 'IMPORT_ERROR', suggestion: 'A package is missing or has the wrong version for this image.' },
  { re: /401 Client Error|Unauthorized for url|gated repo/i, category: 'HF_AUTH', suggestion: 'The model or dataset is gated or private; pass hf_token (it is stored in a Secret).' },
  { re: /FileNotFoundError/i, category: 'FILE_NOT_FOUND', suggestion: 'A path does not exist in the container; check the dataset path and volume mounts.' },
  { re: /Permission denied: '\/\.(local|cache)/i, category: 'READ_ONLY_HOME', suggestion: 'The container cannot write its home directory (common on OpenShift); mount an emptyDir there or set HOME to /workspace.' },
  { re: /PermissionError|Access Denied/i, category: 'PERMISSION_ERROR', suggestion: 'The process lacks permission on a file or bucket; check the securityContext and credentials.' },
  { re: /Connection(Error|Refused|Reset)/i, category: 'NETWORK_ERROR', suggestion: 'A network call failed; check egress, proxies and the master address for multi-node jobs.' },
  { re: /Traceback \(most recent call last\)/, category: 'PYTHON_EXCEPTION', suggestion: 'The script raised an exception; the last lines of the log show which.' },
];

export function diagnose(text: string): { category: string; suggestion: string; line: string } | undefined {
  for (const r of RULES) {
    const m = text.match(new RegExp(`^.*${r.re.source}.*$`, r.re.flags.includes('i') ? 'im' : 'm'));
    if (m) return { category: r.category, suggestion: r.suggestion, line: m[0].trim().slice(0, 300) };
  }
  return undefined;
}
