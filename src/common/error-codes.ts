/**
 * Every error code the API answers (API.md, "Errors"): its status, its problem title, the
 * detail used when the code is raised without one of its own, and when it is answered (the
 * OpenAPI document's words). The first code of each status is
 * the one a bare status of a framework error maps to.
 */
export const ERRORS = {
  validation_failed: {
    status: 400,
    title: 'Validation failed',
    detail: 'The request is malformed.',
    when: 'The request is malformed; `errors` lists each refused field.',
  },
  unauthorized: {
    status: 401,
    title: 'Unauthorized',
    detail: 'A valid bearer token is required.',
    when: 'No valid bearer token (missing, expired, revoked or not ours), or an invalid refresh token.',
  },
  otp_invalid: {
    status: 401,
    title: 'Invalid code',
    detail: 'The code is not correct.',
    when: 'Wrong code; `attemptsRemaining` says how many wrong codes the login still accepts (0: the login is destroyed).',
  },
  otp_expired: {
    status: 401,
    title: 'Code expired',
    detail: 'This sign-in has expired or was already used; ask for a new code.',
    when: 'Unknown, expired, already used or destroyed login: ask for a new code.',
  },
  refresh_token_reused: {
    status: 401,
    title: 'Refresh token reused',
    detail: 'This refresh token was already used; the session is revoked.',
    when: 'An already rotated refresh token was presented: the whole session is revoked.',
  },
  reauthentication_required: {
    status: 401,
    title: 'Reauthentication required',
    detail: 'This needs a recent sign-in; sign in again, then retry.',
    when: 'The session’s last code sign-in is older than `ACCOUNT_REAUTH_SECONDS`: sign in again, then retry.',
  },
  forbidden: {
    status: 403,
    title: 'Forbidden',
    detail: 'This token does not grant access to this resource.',
    when: 'The token does not carry the role or scope this route needs.',
  },
  not_found: { status: 404, title: 'Not found', detail: 'No such resource.', when: 'No such resource.' },
  method_not_allowed: {
    status: 405,
    title: 'Method not allowed',
    detail: 'This method is not allowed here.',
    when: 'The path exists but not with this method.',
  },
  email_taken: {
    status: 409,
    title: 'Address taken',
    detail: 'This address belongs to another account.',
    when: 'The new address belongs to another user; the change is ended.',
  },
  payload_too_large: {
    status: 413,
    title: 'Payload too large',
    detail: 'The request body is larger than 16 KiB.',
    when: 'The request body is larger than 16 KiB.',
  },
  unsupported_media_type: {
    status: 415,
    title: 'Unsupported media type',
    detail: 'Send the request body as application/json.',
    when: 'The request body is not application/json.',
  },
  rate_limited: {
    status: 429,
    title: 'Too many requests',
    detail: 'Too many requests; try again later.',
    when: 'A rate limit was reached; retry after `Retry-After` seconds.',
  },
  otp_resend_too_soon: {
    status: 429,
    title: 'Too soon to send another code',
    detail: 'A code was sent moments ago; wait before asking for another.',
    when: 'Another code was sent for this address moments ago; `resendAvailableAt` says when the next may go.',
  },
  internal_error: {
    status: 500,
    title: 'Internal error',
    detail: 'Something went wrong on our side.',
    when: 'Something went wrong on our side.',
  },
  service_unavailable: {
    status: 503,
    title: 'Service unavailable',
    detail: 'The service is briefly unavailable; try again in a moment.',
    when: 'A dependency the request needs is down.',
  },
  mail_unavailable: {
    status: 503,
    title: 'Mail unavailable',
    detail: 'The code could not be sent; try again in a moment.',
    when: 'The mail server did not take the message; no usable code was left behind.',
  },
} as const satisfies Record<string, { status: number; title: string; detail: string; when: string }>;

export type ErrorCode = keyof typeof ERRORS;

export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

/** The code a framework error with only a status gets. */
export function codeForStatus(status: number): ErrorCode | undefined {
  return ERROR_CODES.find((code) => ERRORS[code].status === status);
}
