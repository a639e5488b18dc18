import { createHash, timingSafeEqual } from 'node:crypto';
import { FailureBudget, HOUR_MS, IssueLimits, IssueResult, OtpStore, StoredCode, VerifyResult } from './otp-store';
import { RowPool } from './row-pool';

// An address row: its counters and its live login's id (times are epoch ms).
const COOLDOWN_UNTIL = 0;
const FAILURES_RESET_AT = 8;
const DUE_SECOND = 16;
const FAILURES = 20;
const ATTEMPTS = 24;
const FIRST_RECORD = 28;
const LOGIN_ID = 32;
const LOGIN_ID_BYTES = 24;
const ADDRESS_ROW = LOGIN_ID + LOGIN_ID_BYTES;

// A record row: one code sent within the hour, or still live, or both. An address's records are
// linked oldest first; links are row + 1, so a zeroed row links nowhere.
const HASH = 0;
const HASH_BYTES = 32;
const SENT_AT = 32;
const EXPIRES_AT = 40;
const NEXT_RECORD = 48;
const FLAGS = 52;
const RECORD_ROW = 56;
const SEND = 1;
const CODE = 2;

const ADDRESS_TAG = /^[A-Za-z0-9_-]{16}$/;

/**
 * The embedded store: one process, no persistence. Every method runs without awaiting, so each
 * is atomic. It holds at most `maxAddresses` addresses and refuses new ones beyond that
 * (`store_full`) rather than grow without bound.
 *
 * An address is a row number: its numbers, login id and codes live in binary rows, and the only
 * objects per address are its Map entry and its email. Each address is filed under the one second
 * at which its login or else its whole state ends, so a sweep costs what expired, not what is
 * stored.
 */
export class MemoryOtpStore extends OtpStore {
  private readonly rowOf = new Map<string, number>();
  private readonly addresses = new RowPool(ADDRESS_ROW);
  private readonly records = new RowPool(RECORD_ROW);
  /** By address row: its Map key, and the email of its live login. */
  private readonly keys: (string | undefined)[] = [];
  private readonly emails: (string | undefined)[] = [];
  private readonly dueAt = new Map<number, number[]>();
  private sweptUpTo: number | null = null;
  private readonly givenHash = Buffer.alloc(HASH_BYTES);
  private readonly givenLoginId = Buffer.alloc(LOGIN_ID_BYTES);

  constructor(private readonly maxAddresses = 1_000_000) {
    super();
  }

  get size(): number {
    return this.rowOf.size;
  }

  async startLogin(address: string, loginId: string, email: string, code: StoredCode, limits: IssueLimits, now: number): Promise<IssueResult> {
    this.sweptUpTo ??= Math.floor(now / 1000);
    let row = this.rowOf.get(address);
    if (row === undefined) {
      if (this.rowOf.size >= this.maxAddresses) this.sweep(now);
      if (this.rowOf.size >= this.maxAddresses) return { outcome: 'store_full' };
      row = this.addAddress(address);
    }
    this.prune(row, now);
    const refused = this.refusal(row, limits, now);
    if (refused) {
      this.settle(row, now);
      return refused;
    }
    this.endLogin(row);
    fingerprint(loginId, BASE64URL, LOGIN_ID_BYTES, this.addresses.page(row), this.addresses.offset(row, LOGIN_ID));
    this.addresses.setU32(row, ATTEMPTS, limits.maxAttempts);
    this.emails[row] = email;
    return this.recordSend(row, code, limits, now);
  }

  async addCode(address: string, loginId: string, code: StoredCode, limits: IssueLimits, now: number): Promise<IssueResult> {
    const row = this.rowOf.get(address);
    if (row === undefined) return { outcome: 'unknown_login' };
    this.prune(row, now);
    const refused = this.isLogin(row, loginId) ? this.refusal(row, limits, now) : { outcome: 'unknown_login' as const };
    if (refused) {
      this.settle(row, now);
      return refused;
    }
    return this.recordSend(row, code, limits, now);
  }

  async verify(address: string, loginId: string, codeHash: string, budget: FailureBudget, now: number): Promise<VerifyResult> {
    const row = this.rowOf.get(address);
    if (row === undefined) return { outcome: 'expired' };
    this.prune(row, now);
    const result = this.check(row, loginId, codeHash, budget, now);
    this.settle(row, now);
    return result;
  }

  async discardCode(address: string, loginId: string, codeHash: string): Promise<void> {
    const row = this.rowOf.get(address);
    if (row === undefined) return;
    const ours = this.isLogin(row, loginId);
    const hash = fingerprint(codeHash, HEX, HASH_BYTES, this.givenHash);
    this.eachRecord(row, (record, flags) => (this.records.bytes(record, HASH, HASH_BYTES).equals(hash) ? flags & ~SEND & (ours ? ~CODE : ~0) : flags));
    if (ours && !this.hasLogin(row)) this.endLogin(row);
    this.addresses.setF64(row, COOLDOWN_UNTIL, 0);
    // Without a clock here, an address is forgotten only when nothing at all is left of it.
    this.settle(row, 0);
  }

  async ping(): Promise<void> {}

  /** Drops expired logins, and addresses whose state has wholly expired; returns how many logins. */
  async removeExpired(now: number): Promise<number> {
    return this.sweep(now);
  }

  private sweep(now: number): number {
    const nowSecond = Math.floor(now / 1000);
    let removed = 0;
    for (let second = this.sweptUpTo ?? nowSecond; second <= nowSecond; second++) {
      const due = this.dueAt.get(second);
      if (!due) continue;
      this.dueAt.delete(second);
      for (const row of due) {
        // Rows filed again since, or forgotten, are no longer due here.
        if (this.addresses.getU32(row, DUE_SECOND) !== second) continue;
        this.addresses.setU32(row, DUE_SECOND, 0);
        if (this.prune(row, now)) removed++;
        this.settle(row, now);
      }
    }
    this.sweptUpTo = Math.max(this.sweptUpTo ?? 0, nowSecond + 1);
    return removed;
  }

  private check(row: number, loginId: string, codeHash: string, budget: FailureBudget, now: number): VerifyResult {
    const failures = this.addresses.getU32(row, FAILURES);
    if (failures >= budget.maxFailed) {
      return { outcome: 'locked', retryAt: this.addresses.getF64(row, FAILURES_RESET_AT), email: this.hasLogin(row) ? this.emails[row]! : null };
    }
    if (!this.isLogin(row, loginId)) return { outcome: 'expired' };
    const email = this.emails[row]!;
    const given = fingerprint(codeHash, HEX, HASH_BYTES, this.givenHash);
    let matched = false;
    this.eachRecord(row, (record, flags) => {
      if (flags & CODE && timingSafeEqual(this.records.bytes(record, HASH, HASH_BYTES), given)) matched = true;
      return flags;
    });
    if (matched) {
      this.endLogin(row);
      this.addresses.setU32(row, FAILURES, 0);
      return { outcome: 'verified', email };
    }
    const attemptsRemaining = this.addresses.getU32(row, ATTEMPTS) - 1;
    if (attemptsRemaining <= 0) this.endLogin(row);
    else this.addresses.setU32(row, ATTEMPTS, attemptsRemaining);
    if (failures === 0) this.addresses.setF64(row, FAILURES_RESET_AT, now + budget.windowMs);
    this.addresses.setU32(row, FAILURES, failures + 1);
    const resetAt = this.addresses.getF64(row, FAILURES_RESET_AT);
    return { outcome: 'invalid', email, attemptsRemaining: Math.max(0, attemptsRemaining), addressLockedUntil: failures + 1 >= budget.maxFailed ? resetAt : null };
  }

  private addAddress(address: string): number {
    const row = this.addresses.allocate();
    const key = ADDRESS_TAG.test(address) ? ownCopy(address) : address;
    this.rowOf.set(key, row);
    if (row === this.keys.length) {
      this.keys.push(key);
      this.emails.push(undefined);
    } else {
      this.keys[row] = key;
    }
    return row;
  }

  private forget(row: number): void {
    this.eachRecord(row, () => 0);
    this.rowOf.delete(this.keys[row]!);
    this.keys[row] = undefined;
    this.emails[row] = undefined;
    this.addresses.release(row);
  }

  /** Drops the codes, sends and failures that are past their time; true when that ended the login. */
  private prune(row: number, now: number): boolean {
    const hourAgo = now - HOUR_MS;
    let hadCodes = false;
    let codesLeft = false;
    this.eachRecord(row, (record, flags) => {
      if (flags & CODE) {
        hadCodes = true;
        if (this.records.getF64(record, EXPIRES_AT) <= now) flags &= ~CODE;
        else codesLeft = true;
      }
      if (flags & SEND && this.records.getF64(record, SENT_AT) <= hourAgo) flags &= ~SEND;
      return flags;
    });
    if (this.addresses.getU32(row, FAILURES) > 0 && this.addresses.getF64(row, FAILURES_RESET_AT) <= now) this.addresses.setU32(row, FAILURES, 0);
    if (hadCodes && !codesLeft) this.endLogin(row);
    return hadCodes && !codesLeft;
  }

  private refusal(row: number, limits: IssueLimits, now: number): IssueResult | undefined {
    const cooldownUntil = this.addresses.getF64(row, COOLDOWN_UNTIL);
    if (cooldownUntil > now) return { outcome: 'cooldown', retryAt: cooldownUntil };
    let sends = 0;
    let oldest = Number.POSITIVE_INFINITY;
    this.eachRecord(row, (record, flags) => {
      if (flags & SEND) {
        sends++;
        oldest = Math.min(oldest, this.records.getF64(record, SENT_AT));
      }
      return flags;
    });
    if (sends >= limits.maxPerHour) return { outcome: 'hourly_limit', retryAt: oldest + HOUR_MS };
    return undefined;
  }

  private recordSend(row: number, code: StoredCode, limits: IssueLimits, now: number): IssueResult {
    const record = this.records.allocate();
    fingerprint(code.hash, HEX, HASH_BYTES, this.records.page(record), this.records.offset(record, HASH));
    this.records.setF64(record, SENT_AT, now);
    this.records.setF64(record, EXPIRES_AT, code.expiresAt);
    this.records.setU32(record, FLAGS, SEND | CODE);
    let last = -1;
    let codes = 1;
    this.eachRecord(row, (each, flags) => {
      last = each;
      if (flags & CODE) codes++;
      return flags;
    });
    if (last < 0) this.addresses.setU32(row, FIRST_RECORD, record + 1);
    else this.records.setU32(last, NEXT_RECORD, record + 1);
    if (codes > limits.maxLiveCodes) this.eachRecord(row, (_, flags) => (flags & CODE && codes-- > limits.maxLiveCodes ? flags & ~CODE : flags));
    const resendAvailableAt = now + limits.cooldownMs;
    this.addresses.setF64(row, COOLDOWN_UNTIL, resendAvailableAt);
    this.settle(row, now);
    return { outcome: 'issued', email: this.emails[row]!, resendAvailableAt };
  }

  private hasLogin(row: number): boolean {
    let codes = false;
    this.eachRecord(row, (_, flags) => {
      if (flags & CODE) codes = true;
      return flags;
    });
    return codes;
  }

  private isLogin(row: number, loginId: string): boolean {
    return this.hasLogin(row) && this.addresses.bytes(row, LOGIN_ID, LOGIN_ID_BYTES).equals(fingerprint(loginId, BASE64URL, LOGIN_ID_BYTES, this.givenLoginId));
  }

  private endLogin(row: number): void {
    this.eachRecord(row, (_, flags) => flags & ~CODE);
    this.addresses.setU32(row, ATTEMPTS, 0);
    this.emails[row] = undefined;
  }

  /** Sets each record's flags to what `update` returns, unlinking and releasing records left with none. */
  private eachRecord(row: number, update: (record: number, flags: number) => number): void {
    let previous = -1;
    let link = this.addresses.getU32(row, FIRST_RECORD);
    while (link !== 0) {
      const record = link - 1;
      link = this.records.getU32(record, NEXT_RECORD);
      const before = this.records.getU32(record, FLAGS);
      const flags = update(record, before);
      if (flags !== 0) {
        if (flags !== before) this.records.setU32(record, FLAGS, flags);
        previous = record;
        continue;
      }
      if (previous < 0) this.addresses.setU32(row, FIRST_RECORD, link);
      else this.records.setU32(previous, NEXT_RECORD, link);
      this.records.release(record);
    }
  }

  /** Files the address under the second its login ends, or else its whole state; forgets it once that has passed. */
  private settle(row: number, now: number): void {
    let loginEnd = 0;
    let sendsEnd = 0;
    this.eachRecord(row, (record, flags) => {
      if (flags & CODE) loginEnd = Math.max(loginEnd, this.records.getF64(record, EXPIRES_AT));
      if (flags & SEND) sendsEnd = Math.max(sendsEnd, this.records.getF64(record, SENT_AT) + HOUR_MS);
      return flags;
    });
    let end = loginEnd;
    if (loginEnd === 0) {
      end = Math.max(sendsEnd, this.addresses.getF64(row, COOLDOWN_UNTIL));
      if (this.addresses.getU32(row, FAILURES) > 0) end = Math.max(end, this.addresses.getF64(row, FAILURES_RESET_AT));
    }
    if (end <= now) return this.forget(row);
    const second = Math.max(Math.ceil(end / 1000), this.sweptUpTo ?? 0);
    const filed = this.addresses.getU32(row, DUE_SECOND);
    if (filed !== 0 && filed <= second) return;
    this.addresses.setU32(row, DUE_SECOND, second);
    const due = this.dueAt.get(second);
    if (due) due.push(row);
    else this.dueAt.set(second, [row]);
  }
}

interface Alphabet {
  /** By ASCII code: the character's value, or -1 when it is not in the alphabet. */
  values: Int8Array;
  bits: number;
}

const HEX = alphabet('0123456789abcdef', 4);
const BASE64URL = alphabet('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', 6);

function alphabet(characters: string, bits: number): Alphabet {
  const values = new Int8Array(128).fill(-1);
  for (let i = 0; i < characters.length; i++) values[characters.charCodeAt(i)] = i;
  return { values, bits };
}

/**
 * Writes a `width`-byte form of `value` at `offset`: its own bytes when it is exactly that many
 * bytes in the encoding the service uses, otherwise its SHA-256, so any string still compares as
 * itself (a clash between the two forms would take a SHA-256 preimage).
 */
function fingerprint(value: string, encoding: Alphabet, width: number, target: Buffer, offset = 0): Buffer {
  if (value.length * encoding.bits === width * 8 && decode(value, encoding, target, offset)) return target;
  createHash('sha256').update(value).digest().copy(target, offset, 0, width);
  return target;
}

function decode(value: string, { values, bits }: Alphabet, target: Buffer, offset: number): boolean {
  let pending = 0;
  let pendingBits = 0;
  let at = offset;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    const symbol = code < 128 ? values[code] : -1;
    if (symbol < 0) return false;
    pending = ((pending << bits) | symbol) & 0xffff;
    pendingBits += bits;
    if (pendingBits >= 8) {
      pendingBits -= 8;
      target[at++] = pending >>> pendingBits;
    }
  }
  return true;
}

/** Address tags arrive as slices of a longer digest string, which a Map key would keep alive. */
function ownCopy(address: string): string {
  return Buffer.from(address, 'base64url').toString('base64url');
}
