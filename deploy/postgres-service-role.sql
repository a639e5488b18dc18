-- The PostgreSQL role the service runs under, with only the rights it uses.
-- For the schema of migrations/postgres up to 1767000001000-oidc-payloads.
--
-- Two roles: the OWNER owns the tables and runs the migrations; the SERVICE role runs the
-- service and its command line (npm run cli) and can change nothing in the schema.
--
--   1. As the owner, migrate (DATABASE_URL is all the command reads):
--        npm run build
--        DATABASE_URL=postgres://OWNER@HOST/DB npm run typeorm -- migration:run
--   2. As the owner, connected to that database (which it should own: if not, psql warns
--      "no privileges were granted" for CONNECT, and whoever owns it grants that), run:
--        psql postgres://OWNER@HOST/DB -v service_role=otp_service -f deploy/postgres-service-role.sql
--      It creates the role (LOGIN, no password) unless it exists, which needs CREATEROLE; a DBA
--      may create it beforehand instead. Give it a password with \password otp_service in psql
--      (it never shows in the process list), or let pg_hba.conf authenticate it otherwise.
--   3. Run the service and the CLI with DATABASE_URL=postgres://otp_service@HOST/DB and
--      DATABASE_MIGRATE=false: the role may not read the migrations table, let alone migrate.
--
-- Run it again after every upgrade that adds migrations: it first revokes everything the role
-- has on the schema's tables and sequences, then grants exactly what this version of the
-- service uses. ALTER DEFAULT PRIVILEGES is deliberately not used: a new table comes with a new
-- migration and a new version of this script, never with rights nobody reviewed.
--
-- The audit trail is insert-only. The service inserts events and seals; it deletes events and
-- seals only for retention (AUDIT_RETENTION_DAYS), and then inserts an anchor. It may never
-- UPDATE or TRUNCATE any audit table, nor delete an anchor: with the service's credentials
-- nobody can rewrite an event or a seal, only remove them the way retention does.
--
-- Privileges granted to PUBLIC reach this role too; PostgreSQL grants none on these tables,
-- and from version 15 on, none to create in schema public (before 15, consider
-- REVOKE CREATE ON SCHEMA public FROM PUBLIC).

\set ON_ERROR_STOP on

\if :{?service_role}
\else
  DO $$ BEGIN RAISE EXCEPTION 'set the role: psql -v service_role=NAME -f deploy/postgres-service-role.sql'; END $$;
\endif

SELECT current_database() AS database,
       NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'service_role') AS create_role \gset

BEGIN;

\if :create_role
CREATE ROLE :"service_role" LOGIN;
\endif

-- A superuser, or a member of the tables' owner, would hold every right whatever is granted here.
SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = :'service_role' AND (rolsuper OR rolbypassrls))
    OR EXISTS (SELECT FROM pg_tables WHERE schemaname = 'public'
               AND pg_has_role(:'service_role', tableowner, 'MEMBER')) AS too_powerful \gset
\if :too_powerful
  DO $$ BEGIN RAISE EXCEPTION 'the service role must be neither a superuser nor the tables'' owner (or a member of it)'; END $$;
\endif

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM :"service_role";
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM :"service_role";

GRANT CONNECT ON DATABASE :"database" TO :"service_role";
GRANT USAGE ON SCHEMA public TO :"service_role";

-- Users are created and updated at sign-in and by profile changes, and deleted with their account
-- (DELETE /api/v1/users/me, or by an admin); their sessions and code records go with them.
GRANT SELECT, INSERT, UPDATE, DELETE ON users TO :"service_role";
-- Deleted by the cleanup job (and a code that could not be mailed is withdrawn).
GRANT SELECT, INSERT, UPDATE, DELETE ON otp_tokens, sessions, service_tokens TO :"service_role";
-- OpenID Connect clients are registered and removed by the operator, never changed.
GRANT SELECT, INSERT, DELETE ON oidc_clients TO :"service_role";
-- The OpenID Provider's state: written as sign-ins proceed, deleted when used, revoked or expired.
GRANT SELECT, INSERT, UPDATE, DELETE ON oidc_payloads TO :"service_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_endpoints, webhook_events, webhook_deliveries, webhook_attempts TO :"service_role";

-- The audit trail: DELETE on events and seals is for retention only.
GRANT SELECT, INSERT, DELETE ON audit_events, audit_seals TO :"service_role";
GRANT SELECT, INSERT ON audit_anchors TO :"service_role";
REVOKE UPDATE, TRUNCATE ON audit_events, audit_seals, audit_anchors FROM :"service_role";
REVOKE DELETE ON audit_anchors FROM :"service_role";

-- The ids of events and anchors.
GRANT USAGE ON SEQUENCE audit_events_id_seq, audit_anchors_id_seq TO :"service_role";
GRANT USAGE ON SEQUENCE webhook_events_id_seq, webhook_deliveries_id_seq, webhook_attempts_id_seq TO :"service_role";

-- Nothing on the migrations table: the owner migrates (DATABASE_MIGRATE=false).

COMMIT;
