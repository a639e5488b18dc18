import { Transform } from 'class-transformer';
import { IsString, Matches, MaxLength } from 'class-validator';
import { IsEmailAddress } from '../../common/email';

const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;

export class RequestCodeDto {
  @IsEmailAddress()
  readonly email: string;
}

export class ResendCodeDto {
  @IsString()
  @MaxLength(128)
  @Matches(SESSION_ID, { message: 'sessionId must be the sessionId returned when the code was requested' })
  readonly sessionId: string;
}

export class VerifyCodeDto extends ResendCodeDto {
  /** Spaces and dashes are dropped, so a pasted "123 456" works. */
  @Transform(({ value }) => (typeof value === 'string' ? value.replace(/[\s-]/g, '') : value))
  @IsString()
  @Matches(/^\d{6,10}$/, { message: 'code must be 6 to 10 digits' })
  readonly code: string;
}
