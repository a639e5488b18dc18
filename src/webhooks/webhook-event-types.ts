/** The events a webhook endpoint can subscribe to (API.md "Webhooks"). */
export const WEBHOOK_EVENT_TYPES = [
  'user.created',
  'user.deleted',
  'user.email_changed',
  'session.created',
  'session.revoked',
  'refresh_token.reused',
  'otp.locked',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * The audit events that are also webhook events: the outbox triggers of the webhooks migrations
 * copy exactly these (user.created comes from the users table, which has no audit event for it).
 */
export const AUDITED_WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = WEBHOOK_EVENT_TYPES.filter(
  (type) => type !== 'user.created',
);
