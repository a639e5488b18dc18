import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Matches, MaxLength } from 'class-validator';
import { IsEmailAddress } from '../../common/email';

const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;

export class RequestCodeDto {
  @ApiProperty({
    format: 'email',
    maxLength: 254,
    example: 'ada@example.com',
    description: 'Trimmed and lower-cased before use.',
  })
  @IsEmailAddress()
  readonly email: string;
}

export class ResendCodeDto {
  @ApiProperty({
    pattern: SESSION_ID.source,
    maxLength: 128,
    description: 'The sessionId returned when the code was requested.',
  })
  @IsString()
  @MaxLength(128)
  @Matches(SESSION_ID, { message: 'sessionId must be the sessionId returned when the code was requested' })
  readonly sessionId: string;
}

export class VerifyCodeDto extends ResendCodeDto {
  /** Spaces and dashes are dropped, so a pasted "123 456" works. */
  @ApiProperty({
    example: '123456',
    description: 'The code from the email (OTP_LENGTH digits); spaces and dashes are ignored.',
  })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.replace(/[\s-]/g, '') : value))
  @IsString()
  @Matches(/^\d{6,10}$/, { message: 'code must be 6 to 10 digits' })
  readonly code: string;
}
