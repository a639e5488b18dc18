import { createHmac } from 'node:crypto';
import { secureRandomBytes } from '../common/random';

const SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 32;

/** A new signing secret as Standard Webhooks libraries take it: `whsec_` and the base64 key. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + secureRandomBytes(SECRET_BYTES).toString('base64');
}

/** The Standard Webhooks headers of one attempt: the signature covers id, timestamp (seconds) and body. */
export function signedHeaders(
  secret: string,
  messageId: string,
  timestampSeconds: number,
  body: string,
): Record<string, string> {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  const signature = createHmac('sha256', key).update(`${messageId}.${timestampSeconds}.${body}`).digest('base64');
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': `v1,${signature}`,
  };
}
