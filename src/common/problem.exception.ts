import { ErrorCode, ERRORS } from './error-codes';

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
