import { toProblem } from './problem-details';
import { UnavailableError } from './unavailable.error';

class QueueUnavailableError extends UnavailableError {}

describe('toProblem', () => {
  it('answers an unavailable dependency 503 service_unavailable with its Retry-After, as an expected error', () => {
    const problem = toProblem(new QueueUnavailableError('queue host unreachable at 10.0.0.7', 12.5), 'req-1');
    expect(problem).toEqual({
      status: 503,
      headers: { 'retry-after': '13' },
      unexpected: false,
      body: {
        type: 'urn:otp-login:problem:service_unavailable',
        title: 'Service unavailable',
        status: 503,
        detail: 'The service is briefly unavailable; try again in a moment.',
        code: 'service_unavailable',
        requestId: 'req-1',
      },
    });
  });
});
