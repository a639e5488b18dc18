import { HttpException } from '@nestjs/common';
import { codeForStatus, ErrorCode, ERRORS } from './error-codes';
import { asProblemException, ProblemException, unavailableProblem } from './problem.exception';

export interface ProblemResponse {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  /** True when the error was not one we raise on purpose: worth an error log line. */
  unexpected: boolean;
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'validation_failed',
  FST_ERR_CTP_INVALID_JSON_BODY: 'validation_failed',
  FST_ERR_CTP_EMPTY_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_TYPE: 'unsupported_media_type',
  FST_ERR_BAD_URL: 'validation_failed',
  FST_ERR_ASYNC_CONSTRAINT: 'validation_failed',
};

/** Turns any error into an RFC 9457 problem document; never exposes stacks or internals. */
export function toProblem(error: unknown, requestId?: string): ProblemResponse {
  const { code, detail, extras, headers, unexpected } = classify(error);
  const status = ERRORS[code].status;
  const allHeaders: Record<string, string> = { ...headers };
  if (status === 401) allHeaders['www-authenticate'] = 'Bearer';
  if (status === 429 && !allHeaders['retry-after']) allHeaders['retry-after'] = '60';
  return {
    status,
    headers: allHeaders,
    unexpected,
    body: {
      type: `urn:otp-login:problem:${code}`,
      title: ERRORS[code].title,
      status,
      detail,
      code,
      ...(requestId ? { requestId } : {}),
      ...extras,
    },
  };
}

interface Classified {
  code: ErrorCode;
  detail: string;
  extras?: Record<string, unknown>;
  headers?: Record<string, string>;
  unexpected: boolean;
}

function classify(error: unknown): Classified {
  const problem = asProblemException(error);
  if (problem) return intended(problem);
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const code = codeForStatus(status) ?? (status >= 500 ? 'internal_error' : 'validation_failed');
    const response = error.getResponse();
    const message =
      typeof response === 'object' && response !== null ? (response as { message?: unknown }).message : response;
    if (code === 'validation_failed' && Array.isArray(message)) {
      return { code, detail: 'The request body is invalid.', extras: { errors: message }, unexpected: false };
    }
    const detail = code === 'not_found' || typeof message !== 'string' ? ERRORS[code].detail : message;
    return { code, detail, headers: headersOf(response), unexpected: status >= 500 };
  }
  if (isDatabaseUnavailable(error)) return intended(unavailableProblem(5));
  const fastifyCode = (error as { code?: unknown })?.code;
  if (typeof fastifyCode === 'string' && FASTIFY_CODES[fastifyCode]) {
    const code = FASTIFY_CODES[fastifyCode];
    const detail =
      fastifyCode === 'FST_ERR_CTP_INVALID_JSON_BODY' ? 'The request body is not valid JSON.' : ERRORS[code].detail;
    return { code, detail, unexpected: false };
  }
  const statusCode = (error as { statusCode?: unknown })?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const code = codeForStatus(statusCode) ?? 'validation_failed';
    return { code, detail: ERRORS[code].detail, unexpected: false };
  }
  return { code: 'internal_error', detail: ERRORS.internal_error.detail, unexpected: true };
}

function intended(problem: ProblemException): Classified {
  const headers = { ...problem.options.headers };
  if (problem.options.retryAfterSeconds !== undefined)
    headers['retry-after'] = String(Math.max(1, Math.ceil(problem.options.retryAfterSeconds)));
  return { code: problem.code, detail: problem.detail, extras: problem.options.extras, headers, unexpected: false };
}

// Connection failures and server shutdowns of PostgreSQL (SQLSTATE classes 08, 57P, 53300) and a
// busy SQLite: the request did nothing (its transaction rolled back) and may simply be retried.
const DATABASE_UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53300',
  'SQLITE_BUSY',
]);
const DATABASE_UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is not established/i;

function isDatabaseUnavailable(error: unknown): boolean {
  const { code, driverError, message } = (error ?? {}) as {
    code?: unknown;
    driverError?: { code?: unknown };
    message?: unknown;
  };
  const errorCode = driverError?.code ?? code;
  return (
    (typeof errorCode === 'string' && DATABASE_UNAVAILABLE_CODES.has(errorCode)) ||
    (typeof message === 'string' && DATABASE_UNAVAILABLE_MESSAGES.test(message))
  );
}

function headersOf(response: unknown): Record<string, string> | undefined {
  const headers = (response as { headers?: unknown })?.headers;
  return headers && typeof headers === 'object' ? (headers as Record<string, string>) : undefined;
}
