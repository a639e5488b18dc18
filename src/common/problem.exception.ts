import { UnavailableError } from './unavailable.error';

export const ERROR_STATUS = {
  validation_failed: 400,
  unauthorized: 401,
  otp_invalid: 401,
  otp_expired: 401,
  refresh_token_reused: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  otp_resend_too_soon: 429,
  rate_limited: 429,
  internal_error: 500,
  mail_unavailable: 503,
  service_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_TITLES: Record<ErrorCode, string> = {
  validation_failed: 'Validation failed',
  unauthorized: 'Unauthorized',
  otp_invalid: 'Invalid code',
  otp_expired: 'Code expired',
  refresh_token_reused: 'Refresh token reused',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  otp_resend_too_soon: 'Too soon to send another code',
  rate_limited: 'Too many requests',
  internal_error: 'Internal error',
  mail_unavailable: 'Mail unavailable',
  service_unavailable: 'Service unavailable',
};

export interface ProblemOptions {
  /** Extra members of the problem document, e.g. attemptsRemaining. */
  extras?: Record<string, unknown>;
  /** Seconds; sent as Retry-After. */
  retryAfterSeconds?: number;
  headers?: Record<string, string>;
}

/** Every error the service answers with on purpose: a stable code, a human detail. */
export class ProblemException extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly options: ProblemOptions = {},
  ) {
    super(detail);
    this.status = ERROR_STATUS[code];
  }
}

const UNAVAILABLE_DETAIL = 'The service is briefly unavailable; try again in a moment.';

/** The problem a dependency that cannot serve right now answers with. */
export function unavailableProblem(retryAfterSeconds: number): ProblemException {
  return new ProblemException('service_unavailable', UNAVAILABLE_DETAIL, { retryAfterSeconds });
}

/**
 * The problem an error raised on purpose stands for: a ProblemException itself, or the 503 of an
 * unavailable dependency (whose layer knows nothing of HTTP); undefined for any other error.
 */
export function asProblemException(error: unknown): ProblemException | undefined {
  if (error instanceof ProblemException) return error;
  if (error instanceof UnavailableError) return unavailableProblem(error.retryAfterSeconds);
  return undefined;
}
