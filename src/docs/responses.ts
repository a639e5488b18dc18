import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AUDIT_EVENT_TYPES } from '../audit/audit-event.entity';
import { ERROR_STATUS } from '../common/problem.exception';

/** Response shapes as the docs show them; the services keep their own interfaces. */

export class LoginTicketResponse {
  @ApiProperty({
    description:
      'Binds the code to the address; send it back with the code. URL-safe, at least 128 bits of randomness.',
    example: 'q3N8b0V2c1Jx6Wm9Zt4Lk7Yp',
  })
  readonly sessionId: string;

  @ApiProperty({ format: 'date-time', description: 'When the newest code stops working.' })
  readonly expiresAt: string;

  @ApiProperty({ format: 'date-time', description: 'The earliest time another code can be sent for this login.' })
  readonly resendAvailableAt: string;

  @ApiProperty({ type: 'integer', example: 6, description: 'Digits in the mailed code (OTP_LENGTH).' })
  readonly codeLength: number;
}

export class UserResponse {
  @ApiProperty({ format: 'uuid' })
  readonly id: string;

  @ApiProperty({ format: 'email', example: 'ada@example.com' })
  readonly email: string;

  @ApiProperty({ type: String, nullable: true, example: 'Ada Lovelace' })
  readonly name: string | null;

  @ApiProperty({ format: 'date-time' })
  readonly createdAt: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  readonly lastLoginAt: string | null;
}

export class ProfileResponse extends UserResponse {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'The JSON object last saved with PATCH /api/v1/users/me.',
  })
  readonly lastSubmittedFormData: Record<string, unknown> | null;
}

export class SignedInResponse {
  @ApiProperty({ description: 'A JWT (typ at+jwt, ES256); send it as `Authorization: Bearer …`.' })
  readonly accessToken: string;

  @ApiProperty({ enum: ['Bearer'] })
  readonly tokenType: 'Bearer';

  @ApiProperty({ type: 'integer', example: 900, description: 'Seconds until the access token expires.' })
  readonly expiresIn: number;

  @ApiProperty({ description: 'Opaque and single use: every refresh answers a new one.' })
  readonly refreshToken: string;

  @ApiProperty({ type: () => UserResponse })
  readonly user: UserResponse;
}

export class SessionResponse {
  @ApiProperty({ format: 'uuid' })
  readonly id: string;

  @ApiProperty({ format: 'date-time' })
  readonly createdAt: string;

  @ApiProperty({ format: 'date-time' })
  readonly lastUsedAt: string;

  @ApiProperty({ example: '203.0.113.7' })
  readonly ip: string;

  @ApiProperty({ type: String, nullable: true })
  readonly userAgent: string | null;

  @ApiProperty({ description: 'True for the session of the token making this request.' })
  readonly current: boolean;
}

export class SessionListResponse {
  @ApiProperty({ type: () => [SessionResponse] })
  readonly items: SessionResponse[];
}

/** RFC 7662: everything but `active` is present only for an active token. */
export class IntrospectionResponse {
  @ApiProperty({ description: 'False for an unknown, expired or revoked token.' })
  readonly active: boolean;

  @ApiPropertyOptional({ enum: ['access_token', 'refresh_token'] })
  readonly token_type?: string;

  @ApiPropertyOptional({ description: 'User id, or `service:<name>` for a service token.' })
  readonly sub?: string;

  @ApiPropertyOptional({ description: 'Session id.' })
  readonly sid?: string;

  @ApiPropertyOptional({ type: 'integer', description: 'Expiry, seconds since the epoch.' })
  readonly exp?: number;

  @ApiPropertyOptional({ type: 'integer', description: 'Issued at, seconds since the epoch.' })
  readonly iat?: number;

  @ApiPropertyOptional()
  readonly iss?: string;

  @ApiPropertyOptional()
  readonly aud?: string;

  @ApiPropertyOptional({ format: 'email' })
  readonly email?: string;

  @ApiPropertyOptional({ type: [String] })
  readonly roles?: string[];

  @ApiPropertyOptional({ description: 'Space-separated scopes of a service token.' })
  readonly scope?: string;
}

export class AuditEventResponse {
  @ApiProperty({ description: 'Increasing with time.' })
  readonly id: string;

  @ApiProperty({ enum: AUDIT_EVENT_TYPES, enumName: 'AuditEventType' })
  readonly type: string;

  @ApiProperty({ format: 'date-time' })
  readonly at: string;

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  readonly userId: string | null;

  @ApiProperty({ type: String, format: 'email', nullable: true })
  readonly email: string | null;

  @ApiProperty({ type: String, nullable: true })
  readonly ip: string | null;

  @ApiProperty({ type: String, nullable: true })
  readonly userAgent: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The sign-in session (the token’s `sid`); a code login’s id is `details.loginId`.',
  })
  readonly sessionId: string | null;

  @ApiProperty({ type: String, nullable: true })
  readonly requestId: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true })
  readonly details: Record<string, unknown>;
}

export class AuditPageResponse {
  @ApiProperty({ type: () => [AuditEventResponse], description: 'Newest first.' })
  readonly items: AuditEventResponse[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next page; null on the last page.',
  })
  readonly nextCursor: string | null;
}

export class UserPageResponse {
  @ApiProperty({ type: () => [UserResponse] })
  readonly items: UserResponse[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next page; null on the last page.',
  })
  readonly nextCursor: string | null;
}

export class JwkResponse {
  @ApiProperty({ example: 'EC' })
  readonly kty: string;

  @ApiProperty()
  readonly kid: string;

  @ApiProperty({ example: 'ES256' })
  readonly alg: string;

  @ApiProperty({ enum: ['sig'] })
  readonly use: string;

  @ApiPropertyOptional({ example: 'P-256' })
  readonly crv?: string;

  @ApiPropertyOptional()
  readonly x?: string;

  @ApiPropertyOptional()
  readonly y?: string;
}

export class JwksResponse {
  @ApiProperty({
    type: () => [JwkResponse],
    description: 'The current key and the previous ones still valid for verification.',
  })
  readonly keys: JwkResponse[];
}

export class LivenessResponse {
  @ApiProperty({ enum: ['ok'] })
  readonly status: 'ok';
}

export class DependencyResponse {
  @ApiProperty({
    enum: ['up', 'degraded', 'down'],
    description: 'Other members name the engine, kind or transport and, when down, the error.',
  })
  readonly status: string;
}

export class ReadinessDetails {
  @ApiProperty({ type: () => DependencyResponse })
  readonly database: DependencyResponse;

  @ApiProperty({
    type: () => DependencyResponse,
    description: '`degraded` while the OTP store has fallen back to memory.',
  })
  readonly otpStore: DependencyResponse;

  @ApiProperty({ type: () => DependencyResponse })
  readonly mail: DependencyResponse;
}

export class ReadinessResponse {
  @ApiProperty({ enum: ['ok', 'degraded', 'error'] })
  readonly status: string;

  @ApiProperty({ type: () => ReadinessDetails })
  readonly details: ReadinessDetails;
}

export class ProblemFieldError {
  @ApiProperty({ example: 'email' })
  readonly field: string;

  @ApiProperty({ example: 'email must be an email address' })
  readonly message: string;
}

/** RFC 9457 problem document: every error the service answers. */
export class Problem {
  @ApiProperty({ example: 'urn:otp-login:problem:otp_invalid' })
  readonly type: string;

  @ApiProperty({ example: 'Invalid code' })
  readonly title: string;

  @ApiProperty({ type: 'integer', example: 401 })
  readonly status: number;

  @ApiProperty({ example: 'The code is not correct.' })
  readonly detail: string;

  @ApiProperty({ enum: Object.keys(ERROR_STATUS), enumName: 'ErrorCode', description: 'Stable; clients branch on it.' })
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
