import type { FastifyRequest } from 'fastify';
import { clientAddressOf, clientContextOf } from './client-context';

const request = (ip: string | undefined, remoteAddress: string | undefined, headers: Record<string, string> = {}) =>
  ({ ip, socket: { remoteAddress }, headers, id: 'request-1' }) as unknown as FastifyRequest;

describe('clientAddressOf', () => {
  it.each([
    ['198.51.100.7', '10.0.0.1', '198.51.100.7'],
    ['2001:db8::1', '10.0.0.1', '2001:db8::1'],
    ['not-an-ip-'.repeat(6), '10.0.0.1', '10.0.0.1'],
    ['198.51.100.7, 10.0.0.2', '10.0.0.1', '10.0.0.1'],
    ['', '::ffff:127.0.0.1', '::ffff:127.0.0.1'],
    [`fe80::1%${'x'.repeat(100)}`, '10.0.0.1', 'fe80::1'],
    ['junk', undefined, '0.0.0.0'],
  ])('takes %j (socket %j) as %j', (ip, remoteAddress, expected) => {
    expect(clientAddressOf(request(ip, remoteAddress))).toBe(expected);
  });
});

describe('clientContextOf', () => {
  it('fits the user agent to its column after escaping it', () => {
    const client = clientContextOf(request('junk', '127.0.0.1', { 'user-agent': '\u0080'.repeat(300) }));
    expect(client).toMatchObject({ ip: '127.0.0.1', requestId: 'request-1' });
    expect(client.userAgent).toBe('\\u0080'.repeat(85));
  });
});
