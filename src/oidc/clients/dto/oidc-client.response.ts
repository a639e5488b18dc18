import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ID_TOKEN_ALGORITHMS, IdTokenAlgorithm } from '../oidc-client.entity';

/** A registered client as the admin API and the command line show it: never with its secret. */
export class OidcClientResponse {
  @ApiProperty({ example: '3f6c1e0a9b7d4c2e8f1a5b6c7d8e9f01' })
  readonly client_id: string;

  @ApiProperty({ example: 'Billing' })
  readonly name: string;

  @ApiProperty({ type: [String] })
  readonly redirect_uris: string[];

  @ApiProperty({ type: [String] })
  readonly post_logout_redirect_uris: string[];

  @ApiProperty({
    description:
      'A public client has no secret and proves itself with PKCE alone; a confidential one presents its secret as HTTP Basic or posted, either.',
  })
  readonly public: boolean;

  @ApiProperty({ enum: ID_TOKEN_ALGORITHMS })
  readonly id_token_signed_response_alg: IdTokenAlgorithm;

  @ApiProperty({ format: 'date-time' })
  readonly created_at: string;
}

export class RegisteredOidcClientResponse extends OidcClientResponse {
  @ApiPropertyOptional({
    description: 'Confidential clients only, and only in this response: it cannot be read again.',
  })
  readonly client_secret?: string;
}

export class OidcClientListResponse {
  @ApiProperty({ type: () => [OidcClientResponse] })
  readonly items: OidcClientResponse[];
}
