import { randomBytes } from 'node:crypto';
import { FailureBudget, IssueLimits, OtpStore, RESTORABLE_MS } from '../../src/store/otp-store';

export interface OtpStoreUnderTest {
  store: OtpStore;
  cleanup: () => Promise<void>;
}

const LIMITS: IssueLimits = { cooldownMs: 0, maxPerHour: 100, maxLiveCodes: 3, maxAttempts: 5 };
const BUDGET: FailureBudget = {
  maxFailed: 100,
  windowMs: 60_000,
  firstLockMs: 60_000,
  maxLockMs: 60_000,
  maxInARow: 100,
};
const MINUTE = 60_000;

/**
 * The OtpStore contract: every implementation (memory, Redis, Redis Cluster) must pass it. Call
 * inside a describe; `createStore` runs before each test and `cleanup` after it.
 */
export function otpStoreContract(createStore: () => OtpStoreUnderTest | Promise<OtpStoreUnderTest>): void {
  let store: OtpStore;
  let cleanup: () => Promise<void>;
  let address: string;
  let now: number;
  const code = (hash: string, expiresInMs = 5 * MINUTE) => ({ hash, expiresAt: now + expiresInMs });

  beforeEach(async () => {
    ({ store, cleanup } = await createStore());
    address = randomBytes(8).toString('base64url');
    now = Date.now();
  });
  afterEach(() => cleanup());

  it('verifies a login once, with the right hash only', async () => {
    await store.startLogin(address, 'login-1', 'ada@example.com', code('h1'), LIMITS, now);
    expect(await store.verify(address, 'login-1', 'wrong', BUDGET, now)).toEqual({
      outcome: 'invalid',
      email: 'ada@example.com',
      attemptsRemaining: 4,
      addressLockedUntil: null,
    });
    expect(await store.verify(address, 'login-1', 'h1', BUDGET, now)).toEqual({
      outcome: 'verified',
      email: 'ada@example.com',
    });
    expect(await store.verify(address, 'login-1', 'h1', BUDGET, now)).toEqual({ outcome: 'expired' });
  });

  it('needs the login id as well as the code', async () => {
    await store.startLogin(address, 'login-1', 'ada@example.com', code('h1'), LIMITS, now);
    expect(await store.verify(address, 'login-2', 'h1', BUDGET, now)).toEqual({ outcome: 'expired' });
  });

  it('ends the earlier login when a new one starts', async () => {
    await store.startLogin(address, 'login-1', 'ada@example.com', code('h1'), LIMITS, now);
    await store.startLogin(address, 'login-2', 'ada@example.com', code('h2'), LIMITS, now);
    expect(await store.verify(address, 'login-1', 'h1', BUDGET, now)).toEqual({ outcome: 'expired' });
    expect((await store.verify(address, 'login-2', 'h2', BUDGET, now)).outcome).toBe('verified');
  });

  it('treats a code past its expiry as gone', async () => {
    await store.startLogin(address, 'login-1', 'ada@example.com', code('h1', MINUTE), LIMITS, now);
    expect(await store.verify(address, 'login-1', 'h1', BUDGET, now + MINUTE + 1)).toEqual({ outcome: 'expired' });
  });

  it('destroys the login when its attempts are spent', async () => {
    await store.startLogin(address, 'login-1', 'ada@example.com', code('h1'), { ...LIMITS, maxAttempts: 2 }, now);
    expect((await store.verify(address, 'login-1', 'x', BUDGET, now)) as { attemptsRemaining: number }).toMatchObject({
      attemptsRemaining: 1,
    });
    expect((await store.verify(address, 'login-1', 'x', BUDGET, now)) as { attemptsRemaining: number }).toMatchObject({
      attemptsRemaining: 0,
    });
    expect(await store.verify(address, 'login-1', 'h1', BUDGET, now)).toEqual({ outcome: 'expired' });
  });

  it('keeps the newest live codes of a login on resend, sharing the attempt budget', async () => {
    await store.startLogin(address, 'login-1', 'ada@example.com', code('h1'), LIMITS, now);
    for (const hash of ['h2', 'h3', 'h4']) {
      expect(await store.addCode(address, 'login-1', code(hash), LIMITS, now)).toMatchObject({
        outcome: 'issued',
        email: 'ada@example.com',
      });
    }
    expect(await store.verify(address, 'login-1', 'h1', BUDGET, now)).toMatchObject({
      outcome: 'invalid',
      attemptsRemaining: 4,
    });
    expect((await store.verify(address, 'login-1', 'h2', BUDGET, now)).outcome).toBe('verified');
  });

  it('refuses a resend for an unknown login', async () => {
    expect(await store.addCode(address, 'nope', code('h1'), LIMITS, now)).toEqual({ outcome: 'unknown_login' });
  });

  it('enforces the cooldown and hourly cap per address, with the time they lift', async () => {
    const limits = { ...LIMITS, cooldownMs: 30_000, maxPerHour: 2 };
    expect(await store.startLogin(address, 'l1', 'ada@example.com', code('h1'), limits, now)).toEqual({
      outcome: 'issued',
      email: 'ada@example.com',
      resendAvailableAt: now + 30_000,
    });
    expect(await store.startLogin(address, 'l2', 'ada@example.com', code('h2'), limits, now + 10_000)).toEqual({
      outcome: 'cooldown',
      retryAt: now + 30_000,
    });
    expect(await store.addCode(address, 'l1', code('h2'), limits, now + 10_000)).toEqual({
      outcome: 'cooldown',
      retryAt: now + 30_000,
    });
    expect((await store.addCode(address, 'l1', code('h2'), limits, now + 30_000)).outcome).toBe('issued');
    expect(await store.startLogin(address, 'l3', 'ada@example.com', code('h3'), limits, now + 60_000)).toEqual({
      outcome: 'hourly_limit',
      retryAt: now + 3_600_000,
    });
    expect(
      (await store.startLogin(address, 'l3', 'ada@example.com', code('h3'), limits, now + 3_600_001)).outcome,
    ).toBe('issued');
  });

  it('withdraws a code that could not be mailed and gives its cooldown and hourly slot back', async () => {
    const limits = { ...LIMITS, cooldownMs: 30_000, maxPerHour: 1 };
    await store.startLogin(address, 'l1', 'ada@example.com', code('h1'), limits, now);
    await store.discardCode(address, 'l1', 'h1');
    expect(await store.verify(address, 'l1', 'h1', BUDGET, now)).toEqual({ outcome: 'expired' });
    expect((await store.startLogin(address, 'l2', 'ada@example.com', code('h2'), limits, now)).outcome).toBe('issued');
  });

  it('locks the address after its failure budget across logins, and a success resets it', async () => {
    const budget = { ...BUDGET, maxFailed: 3 };
    await store.startLogin(address, 'l1', 'ada@example.com', code('h1'), LIMITS, now);
    await store.verify(address, 'l1', 'x', budget, now);
    expect((await store.verify(address, 'l1', 'h1', budget, now)).outcome).toBe('verified');
    await store.startLogin(address, 'l2', 'ada@example.com', code('h2'), LIMITS, now);
    await store.verify(address, 'l2', 'x', budget, now);
    await store.verify(address, 'l2', 'x', budget, now);
    const third = await store.verify(address, 'l2', 'x', budget, now);
    expect(third).toMatchObject({ outcome: 'invalid', attemptsRemaining: 2 });
    expect((third as { addressLockedUntil: number }).addressLockedUntil).toBeGreaterThan(now);
    await store.startLogin(address, 'l3', 'ada@example.com', code('h3'), LIMITS, now);
    const locked = await store.verify(address, 'l3', 'h3', budget, now);
    expect(locked).toMatchObject({ outcome: 'locked', email: 'ada@example.com' });
    expect((locked as { retryAt: number }).retryAt).toBeGreaterThan(now + 50_000);
  });

  it('locks an address for longer with each wrong code past its budget, then for the whole window, and refuses it codes meanwhile', async () => {
    const budget = { maxFailed: 2, windowMs: 10 * MINUTE, firstLockMs: MINUTE, maxLockMs: 4 * MINUTE, maxInARow: 6 };
    const limits = { ...LIMITS, maxAttempts: 100 };
    await store.startLogin(address, 'l1', 'ada@example.com', code('h1', 60 * MINUTE), limits, now);
    expect(await store.verify(address, 'l1', 'x', budget, now)).toMatchObject({
      outcome: 'invalid',
      addressLockedUntil: null,
    });
    // Each wrong code past the budget locks for twice as long as the last (1, 2, 4, 4 minutes), and from the
    // sixth in a row for the whole window; while locked nothing is counted and no code is issued.
    for (const lockMs of [MINUTE, 2 * MINUTE, 4 * MINUTE, 4 * MINUTE, 10 * MINUTE]) {
      const wrong = await store.verify(address, 'l1', 'x', budget, now);
      expect(wrong).toMatchObject({ outcome: 'invalid', addressLockedUntil: now + lockMs });
      expect(await store.verify(address, 'l1', 'h1', budget, now + lockMs - 1)).toEqual({
        outcome: 'locked',
        retryAt: now + lockMs,
        email: 'ada@example.com',
      });
      expect(await store.startLogin(address, 'l2', 'ada@example.com', code('h2'), limits, now + lockMs - 1)).toEqual({
        outcome: 'locked',
        retryAt: now + lockMs,
      });
      expect(await store.addCode(address, 'l1', code('h2'), limits, now + lockMs - 1)).toEqual({
        outcome: 'locked',
        retryAt: now + lockMs,
      });
      now += lockMs;
    }
    expect(await store.verify(address, 'l1', 'h1', budget, now)).toEqual({
      outcome: 'verified',
      email: 'ada@example.com',
    });
  });

  it('forgets failures a window after the last one, or after the lock it caused', async () => {
    const budget = { ...BUDGET, maxFailed: 2, windowMs: 10 * MINUTE, firstLockMs: MINUTE, maxLockMs: 4 * MINUTE };
    await store.startLogin(address, 'l1', 'ada@example.com', code('h1', 60 * MINUTE), LIMITS, now);
    await store.verify(address, 'l1', 'x', budget, now);
    expect(await store.verify(address, 'l1', 'x', budget, now + 9 * MINUTE)).toMatchObject({
      outcome: 'invalid',
      addressLockedUntil: now + 10 * MINUTE,
    });
    const forgotten = now + 10 * MINUTE + 10 * MINUTE;
    expect(await store.verify(address, 'l1', 'x', budget, forgotten - 1)).toMatchObject({
      outcome: 'invalid',
      addressLockedUntil: forgotten - 1 + 2 * MINUTE,
    });
    await store.startLogin(address, 'l2', 'ada@example.com', code('h2', 60 * MINUTE), LIMITS, forgotten + 12 * MINUTE);
    expect(await store.verify(address, 'l2', 'x', budget, forgotten + 12 * MINUTE)).toMatchObject({
      outcome: 'invalid',
      addressLockedUntil: null,
    });
  });

  it('restores a login that a right code ended, with its codes and attempts, unless a newer one started', async () => {
    await store.startLogin(address, 'l1', 'ada@example.com', code('h1'), LIMITS, now);
    await store.verify(address, 'l1', 'x', BUDGET, now);
    expect((await store.verify(address, 'l1', 'h1', BUDGET, now)).outcome).toBe('verified');
    await store.restoreLogin(address, 'l1', now + 1000);
    expect(await store.verify(address, 'l1', 'y', BUDGET, now + 1000)).toMatchObject({
      outcome: 'invalid',
      attemptsRemaining: 3,
    });
    expect((await store.verify(address, 'l1', 'h1', BUDGET, now + 1000)).outcome).toBe('verified');

    await store.startLogin(address, 'l2', 'ada@example.com', code('h2'), LIMITS, now);
    await store.restoreLogin(address, 'l1', now + 1000);
    expect(await store.verify(address, 'l1', 'h1', BUDGET, now + 1000)).toEqual({ outcome: 'expired' });
    expect((await store.verify(address, 'l2', 'h2', BUDGET, now + 1000)).outcome).toBe('verified');
    await store.restoreLogin(address, 'l2', now + 1000 + RESTORABLE_MS);
    expect(await store.verify(address, 'l2', 'h2', BUDGET, now + 1000 + RESTORABLE_MS)).toEqual({ outcome: 'expired' });
  });

  it('lets exactly one of 50 concurrent right guesses succeed', async () => {
    await store.startLogin(address, 'l1', 'ada@example.com', code('h1'), LIMITS, now);
    const results = await Promise.all(Array.from({ length: 50 }, () => store.verify(address, 'l1', 'h1', BUDGET, now)));
    expect(results.filter((result) => result.outcome === 'verified')).toHaveLength(1);
    expect(results.filter((result) => result.outcome === 'expired')).toHaveLength(49);
  });

  it('counts 50 concurrent wrong guesses exactly', async () => {
    await store.startLogin(address, 'l1', 'ada@example.com', code('h1'), { ...LIMITS, maxAttempts: 100 }, now);
    const results = await Promise.all(Array.from({ length: 50 }, () => store.verify(address, 'l1', 'x', BUDGET, now)));
    const remaining = results
      .map((result) => (result as { attemptsRemaining: number }).attemptsRemaining)
      .sort((a, b) => a - b);
    expect(remaining).toEqual(Array.from({ length: 50 }, (_, i) => 50 + i));
  });

  it('keeps an address change beside a sign-in of the same address, under the same counters', async () => {
    await store.startLogin(address, 'sign-in', 'ada@example.com', code('s1'), LIMITS, now);
    const change = await store.startLogin(
      address,
      'change',
      'ada@example.com',
      code('c1'),
      LIMITS,
      now,
      'email-change',
    );
    expect(change).toMatchObject({ outcome: 'issued' });
    expect(await store.verify(address, 'change', 's1', BUDGET, now, 'email-change')).toMatchObject({
      outcome: 'invalid',
    });
    expect(await store.verify(address, 'sign-in', 'c1', BUDGET, now)).toMatchObject({ outcome: 'invalid' });
    expect(await store.verify(address, 'change', 'c1', BUDGET, now, 'email-change')).toEqual({
      outcome: 'verified',
      email: 'ada@example.com',
    });
    expect(await store.verify(address, 'change', 'c1', BUDGET, now, 'email-change')).toEqual({ outcome: 'expired' });
    expect(await store.verify(address, 'sign-in', 's1', BUDGET, now)).toEqual({
      outcome: 'verified',
      email: 'ada@example.com',
    });

    const cooling = { ...LIMITS, cooldownMs: MINUTE };
    await store.startLogin(address, 'sign-in-2', 'ada@example.com', code('s2'), cooling, now);
    expect(
      await store.startLogin(address, 'change-2', 'ada@example.com', code('c2'), cooling, now, 'email-change'),
    ).toMatchObject({ outcome: 'cooldown' });
    const tight = { ...BUDGET, maxFailed: 2 };
    await store.startLogin(address, 'change-3', 'ada@example.com', code('c3'), LIMITS, now + MINUTE, 'email-change');
    await store.verify(address, 'sign-in-2', 'wrong', tight, now + MINUTE);
    expect(await store.verify(address, 'change-3', 'wrong', tight, now + MINUTE, 'email-change')).toMatchObject({
      outcome: 'invalid',
      addressLockedUntil: expect.any(Number),
    });
    expect(await store.verify(address, 'change-3', 'c3', tight, now + MINUTE, 'email-change')).toMatchObject({
      outcome: 'locked',
    });
  });
}
