// Response shapes shared by every tool (upstream-compatible): success {success, data}, error
// {success:false, error, error_code, details, hint}, preview {success, status:"preview", ...}.

export type ErrorCode =
  | 'VALIDATION_ERROR'
  | 'RESOURCE_NOT_FOUND'
  | 'PERMISSION_DENIED'
  | 'KUBERNETES_ERROR'
  | 'SDK_ERROR'
  | 'TIMEOUT'
  | 'ALREADY_EXISTS'
  | 'CONFLICT'
  | 'JOB_FAILED'
  | 'CANCELLED'
  | 'RATE_LIMITED'
  | 'INTERNAL_ERROR'
  /** A write failed half-way and its undo could not be confirmed: objects may remain. */
  | 'PARTIALLY_CREATED';

export class ToolError extends Error {
  constructor(
    public code: ErrorCode,
    message: string,
    public details?: Record<string, unknown>,
    public hint?: string,
  ) {
    super(message);
  }
}

export const ok = (data: unknown) => ({ success: true, data });

export const fail = (e: ToolError) => ({
  success: false,
  error: e.message,
  error_code: e.code,
  details: e.details ?? null,
  hint: e.hint ?? null,
});

/** Returned by a mutating tool called without confirmed=true; nothing has been changed. */
export class Preview {
  constructor(
    public message: string,
    public config: Record<string, unknown>,
  ) {}
  toJSON() {
    return { success: true, status: 'preview', message: this.message, config: this.config };
  }
}
