import { applyDecorators, Type } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiExtraModels,
  ApiResponse,
  ApiResponseOptions,
  getSchemaPath,
} from '@nestjs/swagger';
import { toProblem } from './problem-details';
import { ERROR_STATUS, ErrorCode, ProblemException } from './problem.exception';
import { Problem } from './problem.response';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** When each code is answered, as the docs say it; also the example's `detail`. */
const WHEN: Record<ErrorCode, string> = {
  validation_failed: 'The request is malformed; `errors` lists each refused field.',
  unauthorized: 'No valid bearer token (missing, expired, revoked or not ours), or an invalid refresh token.',
  otp_invalid:
    'Wrong code; `attemptsRemaining` says how many wrong codes the login still accepts (0: the login is destroyed).',
  otp_expired: 'Unknown, expired, already used or destroyed login: ask for a new code.',
  refresh_token_reused: 'An already rotated refresh token was presented: the whole session is revoked.',
  forbidden: 'The token does not carry the role or scope this route needs.',
  not_found: 'No such resource.',
  method_not_allowed: 'The path exists but not with this method.',
  payload_too_large: 'The request body is larger than 16 KiB.',
  unsupported_media_type: 'The request body is not application/json.',
  otp_resend_too_soon:
    'Another code was sent for this address moments ago; `resendAvailableAt` says when the next may go.',
  rate_limited: 'A rate limit was reached; retry after `Retry-After` seconds.',
  internal_error: 'Something went wrong on our side.',
  mail_unavailable: 'The mail server did not take the message; no usable code was left behind.',
  service_unavailable: 'A dependency the request needs is down.',
};

const EXTRAS: Partial<Record<ErrorCode, Record<string, unknown>>> = {
  validation_failed: { errors: [{ field: 'email', message: 'email must be an email address' }] },
  otp_invalid: { attemptsRemaining: 4 },
  otp_resend_too_soon: { resendAvailableAt: '2025-01-01T12:00:30.000Z' },
};

const HEADERS: Record<number, ApiResponseOptions['headers']> = {
  401: { 'WWW-Authenticate': { description: 'Always `Bearer`.', schema: { type: 'string', example: 'Bearer' } } },
  429: {
    'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer', example: 60 } },
  },
};

const DOCUMENTED_CODES = Symbol('documentedProblemCodes');

/** The problem responses for these codes, one per status, each listing its codes with an example of each. */
export function problemResponses(
  codes: readonly ErrorCode[],
  alreadyDocumented: readonly ErrorCode[] = [],
): ApiResponseOptions[] {
  const all = [...new Set([...alreadyDocumented, ...codes])];
  const statuses = [
    ...new Set(codes.filter((code) => !alreadyDocumented.includes(code)).map((code) => ERROR_STATUS[code])),
  ];
  return statuses.map((status) => {
    const sameStatus = all.filter((code) => ERROR_STATUS[code] === status);
    const added = sameStatus.filter((code) => codes.includes(code) && !alreadyDocumented.includes(code));
    return {
      status,
      // Descriptions of one status are joined by @nestjs/swagger; the content is replaced, so it lists every code so far.
      description: added.map((code) => `\`${code}\`: ${WHEN[code]}`).join('\n\n'),
      headers: HEADERS[status],
      content: {
        [PROBLEM_CONTENT_TYPE]: {
          schema: {
            allOf: [
              { $ref: getSchemaPath(Problem) },
              { type: 'object', properties: { code: { type: 'string', enum: sameStatus } } },
            ],
          },
          examples: Object.fromEntries(sameStatus.map((code) => [code, { summary: code, value: exampleOf(code) }])),
        },
      },
    };
  });
}

/** Documents the problem documents a route may answer, grouped by status; repeated use on one route adds codes. */
export function ApiProblems(...codes: ErrorCode[]): MethodDecorator {
  return (target, key, descriptor) => {
    const documented =
      (Reflect.getMetadata(DOCUMENTED_CODES, descriptor.value as object) as ErrorCode[] | undefined) ?? [];
    const decorators = problemResponses(codes, documented).map((response) => ApiResponse(response));
    applyDecorators(ApiExtraModels(Problem), ...decorators)(target, key, descriptor);
    Reflect.defineMetadata(DOCUMENTED_CODES, [...new Set([...documented, ...codes])], descriptor.value as object);
  };
}

/** A JSON request body, with the errors any JSON body can get. */
export const ApiJsonBody = (type: Type<unknown>) =>
  applyDecorators(ApiBody({ type }), ApiProblems('validation_failed', 'payload_too_large', 'unsupported_media_type'));

/** Needs a signed-in user's access token. */
export const ApiSignedIn = () => applyDecorators(ApiBearerAuth(), ApiProblems('unauthorized'));

/** Needs a token with a role or scope (say which in the operation's description). */
export const ApiRestricted = () => applyDecorators(ApiBearerAuth(), ApiProblems('unauthorized', 'forbidden'));

function exampleOf(code: ErrorCode): Record<string, unknown> {
  return toProblem(new ProblemException(code, WHEN[code], { extras: EXTRAS[code] })).body;
}
