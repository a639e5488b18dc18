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
import { ErrorCode, ERRORS } from './error-codes';
import { ProblemException } from './problem.exception';
import { Problem } from './problem.response';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

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
    ...new Set(codes.filter((code) => !alreadyDocumented.includes(code)).map((code) => ERRORS[code].status)),
  ];
  return statuses.map((status) => {
    const sameStatus = all.filter((code) => ERRORS[code].status === status);
    const added = sameStatus.filter((code) => codes.includes(code) && !alreadyDocumented.includes(code));
    return {
      status,
      // Descriptions of one status are joined by @nestjs/swagger; the content is replaced, so it lists every code so far.
      description: added.map((code) => `\`${code}\`: ${ERRORS[code].when}`).join('\n\n'),
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
  return toProblem(new ProblemException(code, ERRORS[code].when, { extras: EXTRAS[code] })).body;
}
