import { ClientContext } from '../common/client-context';
import { Secrets } from '../common/secrets';
import { MailService } from '../mail/mail.service';
import { Metrics } from '../metrics/metrics';
import { CodeGenerator } from '../otp/code-generator';
import { OtpToken } from '../otp/otp-token.entity';
import { OtpTokensRepository } from '../otp/otp-tokens.repository';
import { OtpService } from '../otp/otp.service';
import { LocalChangeFeed } from '../store/change-feed';
import { MemoryOtpStore } from '../store/memory-otp.store';
import { MemoryRevocationList } from '../store/revocation-list';
import { ProfileCache } from '../users/profile-cache';
import { User } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import { UsersService } from '../users/users.service';
import { Session } from './session.entity';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';
import { SignInRepository } from './sign-in.repository';
import { SignInService } from './sign-in.service';
import { loadSigningKeys } from './signing-keys';
import { TokensService } from './tokens.service';
import { VerifiedTokens } from './verified-tokens';
import { CapturingTransport } from '../../test/support/capturing-transport';
import { FailableAudit } from '../../test/support/failable-audit';
import { FakeClock } from '../../test/support/fake-clock';
import { migratedSqlite, unitConfig } from '../../test/support/unit-fixtures';

const client: ClientContext = { ip: '203.0.113.7', userAgent: 'jest', requestId: 'req-1', locale: null };

async function buildSut() {
  const config = unitConfig({ OTP_RESEND_COOLDOWN_SECONDS: '0' });
  const { dataSource, auditTypes } = await migratedSqlite();
  const clock = new FakeClock();
  const secrets = new Secrets(config.secretKey);
  const audit = new FailableAudit(dataSource, clock);
  const metrics = new Metrics();
  const transport = new CapturingTransport();
  const otp = new OtpService(
    new MemoryOtpStore(),
    new MailService(transport, metrics, config),
    new OtpTokensRepository(dataSource, audit),
    audit,
    secrets,
    new CodeGenerator(),
    metrics,
    clock,
    config,
  );
  const users = new UsersService(new UsersRepository(dataSource), new ProfileCache(new LocalChangeFeed()), clock);
  const sessionsRepository = new SessionsRepository(dataSource);
  const signIns = new SignInRepository(dataSource, users, otp, sessionsRepository, audit);
  const sut = new SignInService(
    otp,
    new SessionsService(sessionsRepository, new MemoryRevocationList(), audit, secrets, config, clock),
    signIns,
    users,
    new TokensService(loadSigningKeys(config.jwt), new VerifiedTokens(), config, clock),
  );
  const rows = async () => ({
    users: await dataSource.getRepository(User).find(),
    sessions: await dataSource.getRepository(Session).find(),
    codes: await dataSource.getRepository(OtpToken).find(),
    events: await auditTypes(),
  });
  return { sut, otp, transport, audit, dataSource, rows };
}

describe('SignInService', () => {
  let t: Awaited<ReturnType<typeof buildSut>>;

  afterEach(async () => {
    if (t?.dataSource.isInitialized) await t.dataSource.destroy();
  });

  it('turns a right code into a user, a session, used codes and tokens, once', async () => {
    t = await buildSut();
    const { sessionId } = await t.otp.requestCode('ada@example.com', client);
    const signedIn = await t.sut.withCode(sessionId, t.transport.lastCode(), client);

    expect(signedIn.user.email).toBe('ada@example.com');
    expect(signedIn.refreshToken).toMatch(/^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);
    const { users, sessions, codes, events } = await t.rows();
    expect(users.map((user) => user.email)).toEqual(['ada@example.com']);
    expect(sessions.map((session) => session.userId)).toEqual([signedIn.user.id]);
    expect(codes.map((code) => [code.userId, code.consumedAt !== null])).toEqual([[signedIn.user.id, true]]);
    expect(events).toEqual(['otp.requested', 'otp.sent', 'otp.verified', 'session.created']);
    await expect(t.sut.withCode(sessionId, t.transport.lastCode(), client)).rejects.toMatchObject({
      code: 'otp_expired',
    });
  });

  it('signs an existing user in again without a second row', async () => {
    t = await buildSut();
    for (let i = 0; i < 2; i++) {
      const { sessionId } = await t.otp.requestCode('ada@example.com', client);
      await t.sut.withCode(sessionId, t.transport.lastCode(), client);
    }
    const { users, sessions } = await t.rows();
    expect(users).toHaveLength(1);
    expect(sessions).toHaveLength(2);
  });

  it('writes nothing of a sign-in that fails half-way, and gives the login back so the same code works', async () => {
    t = await buildSut();
    const { sessionId } = await t.otp.requestCode('ada@example.com', client);
    const code = t.transport.lastCode();
    t.audit.failNext = 'session.created';

    const failure = await t.sut.withCode(sessionId, code, client).catch((error: Error) => error);
    expect(failure).toEqual(new Error('the database went away'));
    const afterFailure = await t.rows();
    expect([afterFailure.users, afterFailure.sessions]).toEqual([[], []]);
    expect(afterFailure.events).toEqual(['otp.requested', 'otp.sent']);

    const signedIn = await t.sut.withCode(sessionId, code, client);
    expect(signedIn.user.email).toBe('ada@example.com');
  });
});
