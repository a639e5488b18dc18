import { Column, Entity, PrimaryColumn } from 'typeorm';

export const ID_TOKEN_ALGORITHMS = ['ES256', 'RS256'] as const;
export type IdTokenAlgorithm = (typeof ID_TOKEN_ALGORITHMS)[number];

/** An app registered by the operator to sign its users in with this service. */
@Entity('oidc_clients')
export class OidcClient {
  @PrimaryColumn({ name: 'client_id', type: 'varchar', length: 64 })
  clientId: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ name: 'redirect_uris', type: 'jsonb' })
  redirectUris: string[];

  @Column({ name: 'post_logout_redirect_uris', type: 'jsonb' })
  postLogoutRedirectUris: string[];

  @Column({ name: 'is_public', type: 'boolean' })
  isPublic: boolean;

  @Column({ name: 'id_token_signed_response_alg', type: 'varchar', length: 16 })
  idTokenSignedResponseAlg: IdTokenAlgorithm;

  /** The client secret, sealed (`Secrets.seal('oidc-client-secret', …)`): the provider compares the plaintext. Null for public clients. */
  @Column({ name: 'secret_sealed', type: 'text', nullable: true })
  secretSealed: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
