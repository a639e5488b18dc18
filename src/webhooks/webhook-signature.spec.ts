import { Webhook } from 'standardwebhooks';
import { newWebhookSecret, signedHeaders } from './webhook-signature';

describe('webhook signatures', () => {
  it('verify with the Standard Webhooks library, and not with another secret or body', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = JSON.stringify({ type: 'user.created', timestamp: new Date().toISOString(), data: { userId: 'u' } });
    const headers = signedHeaders(secret, 'msg_1', Math.floor(Date.now() / 1000), body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(secret).verify(body.replace('user.created', 'user.deleted'), headers)).toThrow();
  });
});
