import { MigrationInterface, QueryRunner } from 'typeorm';

/** The OpenID Connect clients the operator registers; a confidential client's secret only sealed. */
export class OidcClientsSqlite1767000000000 implements MigrationInterface {
  name = 'OidcClientsSqlite1767000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE TABLE "oidc_clients" ("client_id" varchar(64) PRIMARY KEY NOT NULL, "name" varchar(100) NOT NULL, "redirect_uris" json NOT NULL, "post_logout_redirect_uris" json NOT NULL, "is_public" boolean NOT NULL, "id_token_signed_response_alg" varchar(16) NOT NULL, "secret_sealed" text, "created_at" datetime NOT NULL)`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE "oidc_clients"`);
  }
}
