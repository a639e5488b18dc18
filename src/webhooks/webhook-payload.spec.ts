import { payloadOf } from './webhook-delivery.worker';
import { WebhookEvent } from './webhook-event.entity';

const event = (overrides: Partial<WebhookEvent>): WebhookEvent => ({
  id: '1',
  type: 'session.created',
  at: new Date('2026-12-07T10:00:00.000Z'),
  userId: 'u-1',
  sessionId: null,
  email: null,
  details: {},
  dispatched: true,
  ...overrides,
});

describe('the webhook body', () => {
  it('carries the user, and the session and address where the event has them', () => {
    expect(payloadOf(event({ sessionId: 's-1', email: 'ada@example.com' }))).toEqual({
      type: 'session.created',
      timestamp: '2026-12-07T10:00:00.000Z',
      data: { userId: 'u-1', sessionId: 's-1', email: 'ada@example.com' },
    });
    expect(payloadOf(event({ type: 'otp.locked', userId: null, email: 'x@example.com' })).data).toEqual({
      userId: null,
      email: 'x@example.com',
    });
  });

  it('passes on the reason of a revocation and nothing else of the audit details', () => {
    const details = { reason: 'logout', loginId: 'l-1', attemptsRemaining: 0, generationsBehind: 2 };
    expect(payloadOf(event({ type: 'session.revoked', sessionId: 's-1', details })).data).toEqual({
      userId: 'u-1',
      sessionId: 's-1',
      reason: 'logout',
    });
    expect(payloadOf(event({ type: 'refresh_token.reused', sessionId: 's-1', details })).data).toEqual({
      userId: 'u-1',
      sessionId: 's-1',
    });
  });
});
