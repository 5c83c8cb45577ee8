// The shapes of the operation language, shared by the generator (which checks them) and the
// runtime (which runs them): this file is copied into generated/ as it is.

/** One step of a declarative tool (see specs/README.md); every string but the resource is CEL. */
export interface Step {
  id: string; when?: string; forEach?: string;
  /** With forEach: a CEL string over `each`; the step's value is then a map from it to each result. */
  key?: string;
  get?: string; list?: string; create?: string; patch?: string; delete?: string; logs?: string; let?: string; fail?: string;
  code?: string; hint?: string; details?: string; name?: string; namespace?: string; allNamespaces?: boolean; labelSelector?: string; fieldSelector?: string;
  limit?: string; continue?: string; body?: string; patchType?: 'merge' | 'json'; container?: string; tailLines?: string;
  sinceSeconds?: string; limitBytes?: string; previous?: string; optional?: boolean; notFound?: { message: string; hint?: string };
  /** An HTTP step: a service of the catalogue, one operation of its OpenAPI document (method and
   * path template, literal), CEL values for the template's parameters and the query. */
  http?: string; method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'; path?: string; params?: Record<string, string>; query?: Record<string, string>;
  /** A call step: a typed async function of specs/calls.yaml, with its arguments (CEL each). */
  call?: string; with?: Record<string, string>;
  /** A list step's per-object projection (CEL over `item`): the step yields {items: rows}. */
  project?: Record<string, string>;
}
/** Repeat the steps until a condition holds or time runs out (a wait, with progress). */
export interface Poll { every: string; timeout: string; until: string; progress?: { value: string; total?: string; message: string } }
export interface Operation { steps: Step[]; output: Record<string, string> | string; preview?: { message: string; fields: Record<string, string> }; poll?: Poll }
export interface RbacRule { verb: string; resource: string; subresource?: string }
export interface Example { title: string; input: Record<string, unknown>; persona?: string; expect?: string; error?: string }
