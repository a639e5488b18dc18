import { ExecutionContext, SetMetadata } from '@nestjs/common';

const OTP_RATE_LIMITED = 'otpRateLimited';

/** The route spends the per-IP budget that all OTP endpoints share (RATE_LIMIT_PER_IP_PER_MINUTE). */
export const OtpRateLimited = () => SetMetadata(OTP_RATE_LIMITED, true);

export function isOtpRateLimited(context: ExecutionContext): boolean {
  return (
    Reflect.getMetadata(OTP_RATE_LIMITED, context.getHandler()) === true ||
    Reflect.getMetadata(OTP_RATE_LIMITED, context.getClass()) === true
  );
}
