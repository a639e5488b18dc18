import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_CODES } from './error-codes';

export class ProblemFieldError {
  @ApiProperty({ example: 'email' })
  readonly field: string;

  @ApiProperty({ example: 'email must be an email address' })
  readonly message: string;
}

export class Problem {
  @ApiProperty({ example: 'urn:otp-login:problem:otp_invalid' })
  readonly type: string;

  @ApiProperty({ example: 'Invalid code' })
  readonly title: string;

  @ApiProperty({ type: 'integer', example: 401 })
  readonly status: number;

  @ApiProperty({ example: 'The code is not correct.' })
  readonly detail: string;

  @ApiProperty({ enum: ERROR_CODES, enumName: 'ErrorCode', description: 'Stable; clients branch on it.' })
  readonly code: string;

  @ApiPropertyOptional({ description: 'The X-Request-Id of the request.' })
  readonly requestId?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    description: '`otp_invalid` only: wrong codes the login still accepts.',
  })
  readonly attemptsRemaining?: number;

  @ApiPropertyOptional({ format: 'date-time', description: '`otp_resend_too_soon` only.' })
  readonly resendAvailableAt?: string;

  @ApiPropertyOptional({
    type: () => [ProblemFieldError],
    description: '`validation_failed`: each field that was refused.',
  })
  readonly errors?: ProblemFieldError[];
}
