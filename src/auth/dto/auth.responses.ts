import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { UserResponse } from '../../users/dto/user.response';

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

export class JwkResponse {
  @ApiProperty({ enum: ['EC', 'RSA'], example: 'EC' })
  readonly kty: string;

  @ApiProperty()
  readonly kid: string;

  @ApiProperty({ enum: ['ES256', 'RS256'], example: 'ES256' })
  readonly alg: string;

  @ApiProperty({ enum: ['sig'] })
  readonly use: string;

  @ApiPropertyOptional({ example: 'P-256' })
  readonly crv?: string;

  @ApiPropertyOptional()
  readonly x?: string;

  @ApiPropertyOptional()
  readonly y?: string;

  @ApiPropertyOptional({ description: 'RSA modulus' })
  readonly n?: string;

  @ApiPropertyOptional({ description: 'RSA exponent', example: 'AQAB' })
  readonly e?: string;
}

export class JwksResponse {
  @ApiProperty({
    type: () => [JwkResponse],
    description:
      'The current ES256 key and the previous ones still valid for verification, and the RS256 key of OpenID clients registered for it, when there is one.',
  })
  readonly keys: JwkResponse[];
}
