import { AuditAnchor } from './audit/audit-anchor.entity';
import { AuditEvent } from './audit/audit-event.entity';
import { AuditSeal } from './audit/audit-seal.entity';
import { ServiceToken } from './auth/service-token.entity';
import { Session } from './auth/session.entity';
import { OidcClient } from './oidc/clients/oidc-client.entity';
import { OidcPayload } from './oidc/storage/oidc-payload.entity';
import { OtpToken } from './otp/otp-token.entity';
import { User } from './users/user.entity';
import { WebhookAttempt } from './webhooks/webhook-attempt.entity';
import { WebhookDelivery } from './webhooks/webhook-delivery.entity';
import { WebhookEndpoint } from './webhooks/webhook-endpoint.entity';
import { WebhookEvent } from './webhooks/webhook-event.entity';

/** Every entity, for data sources built outside Nest (the TypeORM CLI, tests); the app loads them from their modules. */
export const ENTITIES = [
  User,
  OtpToken,
  Session,
  ServiceToken,
  AuditEvent,
  AuditSeal,
  AuditAnchor,
  OidcClient,
  OidcPayload,
  WebhookEndpoint,
  WebhookEvent,
  WebhookDelivery,
  WebhookAttempt,
];
