// Kubernetes `Status` errors with the reasons and messages a real API server gives.
import { qualifiedName, type ResourceType } from './resources.ts';

export interface StatusCause {
  reason: string;
  field?: string;
  message: string;
}

export class StatusError extends Error {
  constructor(
    public code: number,
    public reason: string,
    message: string,
    public details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[] },
  ) {
    super(message);
  }

  toStatus() {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

export const notFound = (t: ResourceType, name: string) =>
  new StatusError(404, 'NotFound', `${qualifiedName(t)} "${name}" not found`, {
    name,
    group: t.group || undefined,
    kind: t.plural,
  });

export const alreadyExists = (t: ResourceType, name: string) =>
  new StatusError(409, 'AlreadyExists', `${qualifiedName(t)} "${name}" already exists`, {
    name,
    group: t.group || undefined,
    kind: t.plural,
  });

export const conflict = (t: ResourceType, name: string) =>
  new StatusError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedName(t)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group: t.group || undefined, kind: t.plural },
  );

/** A UID precondition (delete options, or the uid in an update or patch) that names another object. */
export const uidPrecondition = (t: ResourceType, name: string, wanted: string, actual: string) =>
  new StatusError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedName(t)} "${name}": Precondition failed: UID in precondition: ${wanted}, UID in object meta: ${actual}`,
    { name, group: t.group || undefined, kind: t.plural },
  );

export const badRequest = (message: string) => new StatusError(400, 'BadRequest', message);

export function invalid(t: ResourceType, name: string, causes: StatusCause[]) {
  const list = causes.map((c) => `${c.field}: ${c.message}`);
  const summary = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  return new StatusError(422, 'Invalid', `${t.kind}${t.group ? '.' + t.group : ''} "${name}" is invalid: ${summary}`, {
    name,
    group: t.group || undefined,
    kind: t.kind,
    causes,
  });
}

export const webhookDenied = (webhook: string, detail: string) =>
  new StatusError(403, 'Forbidden', `admission webhook "${webhook}" denied the request: ${detail}`);
