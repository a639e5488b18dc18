/** API.md's error table, written out here so that tests check the contract, not the code's own copy. */
export const API_ERROR_STATUS: Record<string, number> = {
  validation_failed: 400,
  unauthorized: 401,
  otp_invalid: 401,
  otp_expired: 401,
  refresh_token_reused: 401,
  reauthentication_required: 401,
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
};
