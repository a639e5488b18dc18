import { MigrationInterface, QueryRunner } from 'typeorm';

/** The OpenID Connect clients the operator registers; a confidential client's secret only sealed. */
export class OidcClientsPostgres1767000000000 implements MigrationInterface {
  name = 'OidcClientsPostgres1767000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE TABLE "oidc_clients" ("client_id" character varying(64) NOT NULL, "name" character varying(100) NOT NULL, "redirect_uris" jsonb NOT NULL, "post_logout_redirect_uris" jsonb NOT NULL, "is_public" boolean NOT NULL, "id_token_signed_response_alg" character varying(16) NOT NULL, "secret_sealed" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_9e68c17f669bc05c289bf4e12af" PRIMARY KEY ("client_id"))`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE "oidc_clients"`);
  }
}
