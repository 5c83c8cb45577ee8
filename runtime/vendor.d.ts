// Type declarations for dependencies that ship none.
declare module 'json-merge-patch' {
  export function apply(target: unknown, patch: unknown): any;
  export function generate(before: unknown, after: unknown): any;
  const _default: { apply: typeof apply; generate: typeof generate };
  export default _default;
}
