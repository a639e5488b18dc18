import { ApiProperty } from '@nestjs/swagger';
import { IsEmailAddress } from '../../common/email';
import { IsString, Matches, MaxLength } from 'class-validator';
import { Transform } from 'class-transformer';

const CHANGE_ID = /^[A-Za-z0-9_-]{1,128}$/;

export class RequestEmailChangeDto {
  @ApiProperty({
    format: 'email',
    maxLength: 254,
    example: 'ada@new.example.com',
    description: 'Trimmed and lower-cased before use.',
  })
  @IsEmailAddress()
  readonly newEmail: string;
}

export class VerifyEmailChangeDto {
  @ApiProperty({ pattern: CHANGE_ID.source, maxLength: 128, description: 'The changeId of the request.' })
  @IsString()
  @MaxLength(128)
  @Matches(CHANGE_ID, { message: 'changeId must be the changeId returned when the change was requested' })
  readonly changeId: string;

  @ApiProperty({
    example: '123456',
    description: 'The code mailed to the new address (OTP_LENGTH digits); spaces and dashes are ignored.',
  })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.replace(/[\s-]/g, '') : value))
  @IsString()
  @Matches(/^\d{6,10}$/, { message: 'code must be 6 to 10 digits' })
  readonly code: string;
}

export class EmailChangeTicketResponse {
  @ApiProperty({ description: 'Send it back with the code. URL-safe, at least 128 bits of randomness.' })
  readonly changeId: string;

  @ApiProperty({ format: 'date-time', description: 'When the code stops working.' })
  readonly expiresAt: string;

  @ApiProperty({ type: 'integer', example: 6, description: 'Digits in the mailed code (OTP_LENGTH).' })
  readonly codeLength: number;
}
