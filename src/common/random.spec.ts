import { secureRandomBytes } from './random';

describe('secureRandomBytes', () => {
  it('never hands out the same bytes twice, across refills of the pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(secureRandomBytes(24).toString('hex'));
    expect(seen.size).toBe(2000);
  });

  it('gives exactly the size asked, also beyond the pool', () => {
    expect(secureRandomBytes(32)).toHaveLength(32);
    expect(secureRandomBytes(10_000)).toHaveLength(10_000);
  });

  it('returns a copy the pool no longer holds', () => {
    const bytes = secureRandomBytes(16);
    const copy = Buffer.from(bytes);
    secureRandomBytes(16);
    expect(bytes.equals(copy)).toBe(true);
  });
});
