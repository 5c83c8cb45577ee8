// Query parameters read as the API server's parameter codec reads them into ListOptions,
// CreateOptions and PodLogOptions, with the checks the API server makes of list and watch options.
import { StatusError, badRequest, type StatusCause } from './errors.ts';

/**
 * A boolean parameter. The API server's conversion of a query value to a bool makes only "0" and
 * "false" (in any case) false; any other value, the empty string included, is true, and a
 * missing parameter is false. So `watch=True` (the Python client), `watch=1` and `watch=t` all
 * watch.
 */
export function queryBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null) return false;
  return !(v === '0' || v.toLowerCase() === 'false');
}

/** An optional boolean (`*bool` in the Go type): undefined when the parameter is absent. */
export const queryOptionalBool = (q: URLSearchParams, name: string): boolean | undefined =>
  q.has(name) ? queryBool(q, name) : undefined;

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/**
 * An int64 parameter, parsed as Go's strconv.ParseInt(s, 10, 64): an optional sign and decimal
 * digits, nothing else. Anything else is a 400 with strconv's message, as the API server answers.
 */
export function queryInt(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!/^[+-]?[0-9]+$/.test(v)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = BigInt(v);
  if (n > INT64_MAX || n < INT64_MIN)
    throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: value out of range`);
  return Number(n);
}

export interface ListOptions {
  watch: boolean;
  allowWatchBookmarks: boolean;
  /** Absent, true or false: the watch-list protocol of client-go's WatchListClient. */
  sendInitialEvents?: boolean;
  resourceVersion?: string;
  resourceVersionMatch?: string;
  limit: number;
  continue?: string;
  timeoutSeconds?: number;
  labelSelector?: string;
  fieldSelector?: string;
}

const forbidden = (field: string, detail: string): StatusCause => ({
  reason: 'FieldValueForbidden',
  field,
  message: `Forbidden: ${detail}`,
});
const notSupported = (field: string, value: string, supported: string[]): StatusCause => ({
  reason: 'FieldValueNotSupported',
  field,
  message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
});

/** The API server's checks of list and watch options (the WatchList feature is on, as in 1.32). */
export function validateListOptions(o: ListOptions): StatusCause[] {
  const causes: StatusCause[] = [];
  const match = o.resourceVersionMatch ?? '';
  if (o.watch) {
    if (o.sendInitialEvents !== undefined && match !== 'NotOlderThan') {
      causes.push(
        forbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'),
      );
    }
    if (match) {
      if (o.sendInitialEvents === undefined)
        causes.push(
          forbidden(
            'resourceVersionMatch',
            'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
          ),
        );
      if (match !== 'NotOlderThan') causes.push(notSupported('resourceVersionMatch', match, ['NotOlderThan']));
      if (o.continue)
        causes.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
    }
    return causes;
  }
  if (match) {
    if (!o.resourceVersion)
      causes.push(
        forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided'),
      );
    if (o.continue)
      causes.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
    if (match !== 'Exact' && match !== 'NotOlderThan')
      causes.push(notSupported('resourceVersionMatch', match, ['Exact', 'NotOlderThan', '']));
    if (match === 'Exact' && o.resourceVersion === '0')
      causes.push(
        forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'),
      );
  }
  if (o.sendInitialEvents !== undefined)
    causes.push(forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list'));
  return causes;
}

/** 422 for options the API server refuses: `ListOptions.meta.k8s.io "" is invalid: ...`. */
function invalidOptions(kind: string, causes: StatusCause[]) {
  const list = causes.map((c) => `${c.field}: ${c.message}`);
  return new StatusError(
    422,
    'Invalid',
    `${kind}.meta.k8s.io "" is invalid: ${list.length === 1 ? list[0] : `[${list.join(', ')}]`}`,
    { group: 'meta.k8s.io', kind, causes },
  );
}

/** The list and watch options of a GET on a collection (or a watch on one object), checked. */
export function listOptions(q: URLSearchParams): ListOptions {
  const o: ListOptions = {
    watch: queryBool(q, 'watch'),
    allowWatchBookmarks: queryBool(q, 'allowWatchBookmarks'),
    sendInitialEvents: queryOptionalBool(q, 'sendInitialEvents'),
    resourceVersion: q.get('resourceVersion') || undefined,
    resourceVersionMatch: q.get('resourceVersionMatch') || undefined,
    limit: queryInt(q, 'limit') ?? 0,
    continue: q.get('continue') || undefined,
    timeoutSeconds: queryInt(q, 'timeoutSeconds'),
    labelSelector: q.get('labelSelector') || undefined,
    fieldSelector: q.get('fieldSelector') || undefined,
  };
  const causes = validateListOptions(o);
  if (causes.length) throw invalidOptions('ListOptions', causes);
  return o;
}

/** `dryRun`: only "All" is a dry run; any other value is refused as the API server refuses it. */
export function dryRunOf(
  q: URLSearchParams,
  kind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions' | 'DeleteOptions',
  body: string[] = [],
): boolean {
  const values = [...q.getAll('dryRun'), ...body];
  const bad = values.filter((v) => v !== 'All');
  if (bad.length)
    throw invalidOptions(kind, [
      {
        reason: 'FieldValueNotSupported',
        field: 'dryRun',
        message: `Unsupported value: []string{${values.map((v) => JSON.stringify(v)).join(', ')}}: supported values: "All"`,
      },
    ]);
  return values.length > 0;
}

/** `fieldValidation`: Ignore, Warn (the default) or Strict; anything else is refused. */
export function fieldValidationOf(
  q: URLSearchParams,
  kind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions',
): 'Ignore' | 'Warn' | 'Strict' {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Ignore' || v === 'Warn' || v === 'Strict') return v;
  throw invalidOptions(kind, [notSupported('fieldValidation', v, ['Ignore', 'Strict', 'Warn'])]);
}
