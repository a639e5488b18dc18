import { randomBytes } from 'node:crypto';
import { AuditService } from '../audit/audit.service';
import { ClientContext } from '../common/client-context';
import { ProblemException } from '../common/problem.exception';
import { Secrets } from '../common/secrets';
import { MemoryRevocationList } from '../store/revocation-list';
import { UsersRepository } from '../users/users.repository';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';
import { FakeClock } from '../../test/support/fake-clock';
import { migratedSqlite, unitConfig } from '../../test/support/unit-fixtures';

const client: ClientContext = { ip: '198.51.100.1', userAgent: 'jest', requestId: 'r', locale: null };

async function buildSut(env: Record<string, string> = {}) {
  const config = unitConfig(env);
  const { dataSource, auditTypes } = await migratedSqlite();
  const clock = new FakeClock();
  const revocations = new MemoryRevocationList();
  const sessions = new SessionsRepository(dataSource);
  const sut = new SessionsService(
    sessions,
    revocations,
    new AuditService(dataSource, clock),
    new Secrets(config.secretKey),
    config,
    clock,
  );
  const user = await new UsersRepository(dataSource).upsertSignIn('ada@example.com', new Date(clock.now()));
  /** A stored session of the user, as a sign-in leaves it. */
  const start = async () => {
    const { session, refreshToken } = sut.open(client);
    await sessions.insert({ ...session, userId: user.id });
    return { session: { ...session, userId: user.id }, refreshToken };
  };
  return { sut, clock, revocations, dataSource, user, auditTypes, start };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProblemException) return error.code;
    throw error;
  }
  return 'ok';
}

describe('SessionsService', () => {
  let t: Awaited<ReturnType<typeof buildSut>>;
  afterEach(async () => {
    if (t?.dataSource.isInitialized) await t.dataSource.destroy();
  });

  it('rotates the refresh token on every use', async () => {
    t = await buildSut();
    const { refreshToken: first } = await t.start();
    t.clock.advance(60);
    const second = await t.sut.refresh(first, client);
    t.clock.advance(60);
    const third = await t.sut.refresh(second.refreshToken, client);
    expect(new Set([first, second.refreshToken, third.refreshToken]).size).toBe(3);
    expect(await t.auditTypes()).toEqual(['session.refreshed', 'session.refreshed']);
  });

  it('gives the token just rotated out the same next token within the grace, then treats it as reuse', async () => {
    t = await buildSut({ JWT_REFRESH_GRACE_SECONDS: '10' });
    const { refreshToken: first } = await t.start();
    const winner = await t.sut.refresh(first, client);
    t.clock.advance(5);
    expect((await t.sut.refresh(first, client)).refreshToken).toBe(winner.refreshToken);
    t.clock.advance(6);
    expect(await codeOf(t.sut.refresh(first, client))).toBe('refresh_token_reused');
    expect(await codeOf(t.sut.refresh(winner.refreshToken, client))).toBe('unauthorized');
    expect(await t.revocations.isRevoked(winner.session.id, t.clock.now())).toBe(true);
    expect(await t.auditTypes()).toEqual(['session.refreshed', 'session.revoked', 'refresh_token.reused']);
  });

  it('recognises a token several rotations old as reuse', async () => {
    t = await buildSut({ JWT_REFRESH_GRACE_SECONDS: '0' });
    const { refreshToken: first } = await t.start();
    let current = first;
    for (let i = 0; i < 5; i++) {
      t.clock.advance(1);
      current = (await t.sut.refresh(current, client)).refreshToken;
    }
    expect(await codeOf(t.sut.refresh(first, client))).toBe('refresh_token_reused');
  });

  it('refuses a forged secret for a real session without ending it', async () => {
    t = await buildSut();
    const { session, refreshToken } = await t.start();
    expect(await codeOf(t.sut.refresh(`${session.id}.${randomBytes(32).toString('base64url')}`, client))).toBe(
      'unauthorized',
    );
    expect(await codeOf(t.sut.refresh(refreshToken, client))).toBe('ok');
  });

  it('slides the refresh expiry but ends the session at its maximum age', async () => {
    t = await buildSut({ JWT_REFRESH_TTL_SECONDS: '3600', JWT_SESSION_MAX_AGE_SECONDS: '7200' });
    let { refreshToken } = await t.start();
    t.clock.advance(3000);
    ({ refreshToken } = await t.sut.refresh(refreshToken, client));
    t.clock.advance(3000);
    const late = await t.sut.refresh(refreshToken, client);
    expect(late.session.refreshExpiresAt.getTime()).toBe(late.session.expiresAt.getTime());
    t.clock.advance(1201);
    expect(await codeOf(t.sut.refresh(late.refreshToken, client))).toBe('unauthorized');
  });

  it('expires an unused refresh token after its lifetime', async () => {
    t = await buildSut({ JWT_REFRESH_TTL_SECONDS: '3600' });
    const { refreshToken } = await t.start();
    t.clock.advance(3601);
    expect(await codeOf(t.sut.refresh(refreshToken, client))).toBe('unauthorized');
  });

  it('revokes only the owner’s sessions', async () => {
    t = await buildSut();
    const other = await new UsersRepository(t.dataSource).upsertSignIn('eve@example.com', new Date(t.clock.now()));
    const { session } = await t.start();
    expect(await t.sut.revokeOwn(other.id, session.id, client, 'test')).toBe(false);
    expect(await t.sut.revokeOwn(t.user.id, 'not-a-uuid', client, 'test')).toBe(false);
    expect(await t.sut.revokeOwn(t.user.id, session.id, client, 'test')).toBe(true);
    expect(await t.sut.listLive(t.user.id)).toEqual([]);
  });
});
