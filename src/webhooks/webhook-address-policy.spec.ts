import { guardedLookup, isForbiddenAddress, webhookUrlProblem } from './webhook-address-policy';

const PUBLIC_ONLY = { httpsOnly: true, allowPrivate: false };

describe('the webhook address policy', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.100.100.200',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fd00:ec2::254',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    '::ffff:7f00:1',
    '64:ff9b::a00:1',
  ])('forbids %s', (address) => expect(isForbiddenAddress(address)).toBe(true));

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows %s', (address) =>
    expect(isForbiddenAddress(address)).toBe(false),
  );

  it.each([
    ['http://hooks.example.com/', 'must use https'],
    ['https://127.0.0.1/hooks', 'must not point to a loopback'],
    ['https://[::1]/hooks', 'must not point to a loopback'],
    ['https://169.254.169.254/latest/meta-data', 'must not point to a loopback'],
    ['https://user:secret@hooks.example.com/', 'must not contain a user name'],
    ['https://hooks.example.com/#x', 'must not contain a fragment'],
    ['hooks.example.com', 'must be an absolute URL'],
  ])('refuses %s in production', (url, problem) => expect(webhookUrlProblem(url, PUBLIC_ONLY)).toContain(problem));

  it('takes an https URL on a public name, and loopback only when private addresses are allowed', () => {
    expect(webhookUrlProblem('https://hooks.example.com/otp', PUBLIC_ONLY)).toBeUndefined();
    expect(webhookUrlProblem('http://127.0.0.1:8080/', { httpsOnly: false, allowPrivate: true })).toBeUndefined();
    expect(webhookUrlProblem('http://127.0.0.1:8080/', { httpsOnly: true, allowPrivate: true })).toBe('must use https');
  });

  it('refuses a name that resolves to a forbidden address, and hands over only the addresses it checked', async () => {
    const lookup = (allowPrivate: boolean, all: boolean) =>
      new Promise<{ error: NodeJS.ErrnoException | null; address: unknown }>((resolve) =>
        guardedLookup(allowPrivate)('localhost', { all }, (error, address) => resolve({ error, address })),
      );
    expect((await lookup(false, true)).error?.code).toBe('EWEBHOOKADDRESS');
    expect((await lookup(false, false)).error?.code).toBe('EWEBHOOKADDRESS');
    const allowed = await lookup(true, true);
    expect(allowed.error).toBeNull();
    expect(allowed.address).toEqual(expect.arrayContaining([expect.objectContaining({ address: expect.any(String) })]));
  });
});
