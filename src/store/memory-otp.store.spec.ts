import { createHash, randomBytes } from 'node:crypto';
import { MemoryOtpStore } from './memory-otp.store';

const LIMITS = { cooldownMs: 0, maxPerHour: 100, maxLiveCodes: 3, maxAttempts: 5 };
const BUDGET = { maxFailed: 10, windowMs: 60_000, firstLockMs: 60_000, maxLockMs: 60_000, maxInARow: 100 };
const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
/** A login secret, address tag and code hash in the forms the service makes them. */
const secret = () => randomBytes(24).toString('base64url');
const tag = () => randomBytes(12).toString('base64url');
const hash = (code: string) => createHash('sha256').update(code).digest('hex');

describe('MemoryOtpStore (beyond the shared contract)', () => {
  it('refuses new addresses when full, after first dropping what expired', async () => {
    const sut = new MemoryOtpStore(2);
    await sut.startLogin('a', 'l', 'a@x', { hash: 'h', expiresAt: T0 + 1000 }, LIMITS, T0);
    await sut.startLogin('b', 'l', 'b@x', { hash: 'h', expiresAt: T0 + 1000 }, LIMITS, T0);
    expect(await sut.startLogin('c', 'l', 'c@x', { hash: 'h', expiresAt: T0 + 1000 }, LIMITS, T0)).toEqual({
      outcome: 'store_full',
    });
    expect((await sut.startLogin('a', 'l2', 'a@x', { hash: 'h2', expiresAt: T0 + 1000 }, LIMITS, T0)).outcome).toBe(
      'issued',
    );
    expect(
      (await sut.startLogin('c', 'l', 'c@x', { hash: 'h', expiresAt: T0 + 2 * HOUR }, LIMITS, T0 + HOUR + 1000))
        .outcome,
    ).toBe('issued');
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

  it('gives an address forgotten by one login nothing of it to the next', async () => {
    const sut = new MemoryOtpStore(1);
    const [first, next] = [secret(), secret()];
    const limits = { ...LIMITS, cooldownMs: 60_000 };
    await sut.startLogin('a', first, 'a@x', { hash: hash('1'), expiresAt: T0 + 1000 }, limits, T0);
    await sut.verify('a', first, hash('2'), { ...BUDGET, maxFailed: 1, windowMs: HOUR }, T0);
    const later = T0 + 2 * HOUR;
    expect(await sut.startLogin('b', next, 'b@x', { hash: hash('3'), expiresAt: later + 1000 }, limits, later)).toEqual(
      {
        outcome: 'issued',
        email: 'b@x',
        resendAvailableAt: later + 60_000,
      },
    );
    expect(await sut.verify('a', first, hash('1'), BUDGET, later)).toEqual({ outcome: 'expired' });
    expect(await sut.verify('b', first, hash('3'), BUDGET, later)).toEqual({ outcome: 'expired' });
    expect(await sut.verify('b', next, hash('1'), BUDGET, later)).toMatchObject({
      outcome: 'invalid',
      attemptsRemaining: 4,
      addressLockedUntil: null,
    });
    expect(await sut.verify('b', next, hash('3'), BUDGET, later)).toEqual({ outcome: 'verified', email: 'b@x' });
    await sut.removeExpired(later + HOUR);
    expect(sut.size).toBe(0);
  });

  it('forgets an address at once when a withdrawn code leaves nothing of it', async () => {
    const sut = new MemoryOtpStore(1);
    const limits = { ...LIMITS, cooldownMs: 60_000 };
    await sut.startLogin('a', 'l', 'a@x', { hash: 'h', expiresAt: T0 + 1000 }, limits, T0);
    await sut.discardCode('a', 'l', 'h');
    expect(sut.size).toBe(0);
    expect((await sut.startLogin('b', 'l', 'b@x', { hash: 'h', expiresAt: T0 + 1000 }, limits, T0)).outcome).toBe(
      'issued',
    );
  });

  it('is full while the hourly window of its addresses lasts, and has room again after', async () => {
    const sut = new MemoryOtpStore(2);
    const start = (address: string, now: number) =>
      sut.startLogin(address, 'l', `${address}@x`, { hash: 'h', expiresAt: now + 300_000 }, LIMITS, now);
    await start('a', T0);
    await start('b', T0);
    expect(await start('c', T0 + 301_000)).toEqual({ outcome: 'store_full' });
    expect((await start('c', T0 + HOUR + 1000)).outcome).toBe('issued');
    expect((await start('d', T0 + HOUR + 1000)).outcome).toBe('issued');
    expect(await start('e', T0 + HOUR + 1000)).toEqual({ outcome: 'store_full' });
    expect(await sut.verify('c', 'l', 'h', BUDGET, T0 + HOUR + 2000)).toEqual({ outcome: 'verified', email: 'c@x' });
    expect(await sut.verify('d', 'l', 'h', BUDGET, T0 + HOUR + 2000)).toEqual({ outcome: 'verified', email: 'd@x' });
  });

  it('sweeps many addresses at once, only those whose time has come', async () => {
    const sut = new MemoryOtpStore();
    const addresses = Array.from({ length: 5000 }, () => tag());
    for (const [i, address] of addresses.entries()) {
      const expiresAt = T0 + 300_000 + (i < 4000 ? 0 : 1000);
      await sut.startLogin(address, secret(), `${i}@x`, { hash: hash(String(i)), expiresAt }, LIMITS, T0);
    }
    expect(await sut.removeExpired(T0 + 299_999)).toBe(0);
    expect(await sut.removeExpired(T0 + 300_000)).toBe(4000);
    expect(await sut.removeExpired(T0 + 301_000)).toBe(1000);
    expect(sut.size).toBe(5000);
    expect(await sut.removeExpired(T0 + HOUR)).toBe(0);
    expect(sut.size).toBe(0);
  });

  it('counts every send of a busy address within the hour, keeps its newest codes, and gives a withdrawn one back', async () => {
    const sut = new MemoryOtpStore();
    const limits = { ...LIMITS, maxPerHour: 40, maxLiveCodes: 10 };
    const code = (i: number) => ({ hash: hash(String(i)), expiresAt: T0 + 2 * HOUR });
    const id = secret();
    await sut.startLogin('a', id, 'a@x', code(0), limits, T0);
    for (let i = 1; i < 40; i++)
      expect((await sut.addCode('a', id, code(i), limits, T0 + i * 1000)).outcome).toBe('issued');
    expect(await sut.addCode('a', id, code(40), limits, T0 + 50_000)).toEqual({
      outcome: 'hourly_limit',
      retryAt: T0 + HOUR,
    });
    expect(await sut.verify('a', id, hash('29'), BUDGET, T0 + 50_000)).toMatchObject({ outcome: 'invalid' });
    await sut.discardCode('a', id, hash('39'));
    expect((await sut.addCode('a', id, code(40), limits, T0 + 50_000)).outcome).toBe('issued');
    expect(await sut.verify('a', id, hash('31'), BUDGET, T0 + 50_000)).toEqual({ outcome: 'verified', email: 'a@x' });
  });

  it('tells apart hashes and login ids that differ only in their form', async () => {
    const sut = new MemoryOtpStore();
    const id = secret();
    const right = hash('123456');
    await sut.startLogin('a', id, 'a@x', { hash: right, expiresAt: T0 + 1000 }, LIMITS, T0);
    expect(await sut.verify('a', `${id}=`, right, BUDGET, T0)).toEqual({ outcome: 'expired' });
    expect(await sut.verify('a', id, right.toUpperCase(), BUDGET, T0)).toMatchObject({ outcome: 'invalid' });
    expect(await sut.verify('a', id, right, BUDGET, T0)).toEqual({ outcome: 'verified', email: 'a@x' });
  });
});
