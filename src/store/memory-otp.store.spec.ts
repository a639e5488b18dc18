import { MemoryOtpStore } from './memory-otp.store';

const LIMITS = { cooldownMs: 0, maxPerHour: 100, maxLiveCodes: 3, maxAttempts: 5 };
const BUDGET = { maxFailed: 10, windowMs: 60_000 };
const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

describe('MemoryOtpStore (beyond the shared contract)', () => {
  it('refuses new addresses when full, after first dropping what expired', async () => {
    const sut = new MemoryOtpStore(2);
    await sut.startLogin('a', 'l', 'a@x', { hash: 'h', expiresAt: T0 + 1000 }, LIMITS, T0);
    await sut.startLogin('b', 'l', 'b@x', { hash: 'h', expiresAt: T0 + 1000 }, LIMITS, T0);
    expect(await sut.startLogin('c', 'l', 'c@x', { hash: 'h', expiresAt: T0 + 1000 }, LIMITS, T0)).toEqual({ outcome: 'store_full' });
    expect((await sut.startLogin('a', 'l2', 'a@x', { hash: 'h2', expiresAt: T0 + 1000 }, LIMITS, T0)).outcome).toBe('issued');
    expect((await sut.startLogin('c', 'l', 'c@x', { hash: 'h', expiresAt: T0 + 2 * HOUR }, LIMITS, T0 + HOUR + 1000)).outcome).toBe('issued');
  });

  it('stores nothing for verifications of unknown logins', async () => {
    const sut = new MemoryOtpStore();
    for (let i = 0; i < 100; i++) await sut.verify(`probe-${i}`, 'x', 'y', BUDGET, T0);
    expect(sut.size).toBe(0);
  });

  it('drops expired logins, then addresses whose whole state has expired, and keeps the rest', async () => {
    const sut = new MemoryOtpStore();
    for (let i = 0; i < 1000; i++) {
      const sentAt = T0 + i * 1000;
      await sut.startLogin(`address-${i}`, 'l', 'x@x', { hash: 'h', expiresAt: sentAt + 300_000 }, LIMITS, sentAt);
    }
    // State lives until the hourly window of its last send has passed.
    expect(await sut.removeExpired(T0 + 300_000 + 499_500)).toBe(500);
    expect(sut.size).toBe(1000);
    expect(await sut.removeExpired(T0 + HOUR + 499_500)).toBe(500);
    expect(sut.size).toBe(500);
    expect(await sut.removeExpired(T0 + HOUR + 2_000_000)).toBe(0);
    expect(sut.size).toBe(0);
  });

  it('keeps an address while its login lives, even past the hourly window', async () => {
    const sut = new MemoryOtpStore();
    await sut.startLogin('a', 'l', 'a@x', { hash: 'h', expiresAt: T0 + 2 * HOUR }, LIMITS, T0);
    expect(await sut.removeExpired(T0 + HOUR + 1000)).toBe(0);
    expect(sut.size).toBe(1);
    expect(await sut.removeExpired(T0 + 2 * HOUR + 1000)).toBe(1);
    expect(sut.size).toBe(0);
  });
});
