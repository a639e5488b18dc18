import { ErrorCode, ERRORS } from './error-codes';
import { UnavailableError } from './unavailable.error';

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
    this.status = ERRORS[code].status;
  }
}

/** The problem a dependency that cannot serve right now answers with. */
export function unavailableProblem(retryAfterSeconds: number): ProblemException {
  return new ProblemException('service_unavailable', ERRORS.service_unavailable.detail, { retryAfterSeconds });
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
