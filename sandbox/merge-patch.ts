// JSON merge patch (RFC 7386), as the API server applies application/merge-patch+json: an object
// in the patch merges key by key, null removes a key, anything else replaces the value whole.

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Applies `patch` to `target` (changed in place when both are objects) and returns the result. */
export function applyMergePatch(target: unknown, patch: unknown): any {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}
