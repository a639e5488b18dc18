import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsBoolean, IsIn, IsOptional, IsString } from 'class-validator';
import { ID_TOKEN_ALGORITHMS, IdTokenAlgorithm } from '../oidc-client.entity';

const URI_RULES =
  'Absolute, at most 2000 characters, no fragment; https, http on localhost, 127.0.0.1 or [::1] ' +
  '(any host in development), or a private-use scheme with a dot for native apps (`com.example.app:/callback`). ' +
  'Matched exactly.';

/**
 * The JSON types; the registration rules (lengths, counts, URIs, the RSA key) are the service's,
 * so that the command line is held to the same ones.
 */
export class CreateOidcClientDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'Billing' })
  @IsString()
  readonly name: string;

  @ApiProperty({
    type: [String],
    minItems: 1,
    maxItems: 10,
    example: ['https://billing.example.com/auth/callback'],
    description: URI_RULES,
  })
  @IsArray()
  @IsString({ each: true })
  readonly redirect_uris: string[];

  @ApiPropertyOptional({
    type: [String],
    maxItems: 10,
    example: ['https://billing.example.com/'],
    description: `Where RP-initiated logout may return. ${URI_RULES}`,
  })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  readonly post_logout_redirect_uris?: string[];

  @ApiPropertyOptional({
    default: false,
    description: 'A public client (a native or single-page app) has no secret and uses PKCE alone.',
  })
  @IsOptional()
  @IsBoolean()
  readonly public?: boolean;

  @ApiPropertyOptional({
    enum: ID_TOKEN_ALGORITHMS,
    default: 'ES256',
    description: 'RS256 needs JWT_RSA_PRIVATE_KEY in production.',
  })
  @IsOptional()
  @IsIn(ID_TOKEN_ALGORITHMS, {
    message: `id_token_signed_response_alg must be one of ${ID_TOKEN_ALGORITHMS.join(', ')}`,
  })
  readonly id_token_signed_response_alg?: IdTokenAlgorithm;
}
