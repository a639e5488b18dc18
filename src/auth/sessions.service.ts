import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { ClientContext } from '../common/client-context';
import { Clock } from '../common/clock';
import { ProblemException } from '../common/problem.exception';
import { Secrets } from '../common/secrets';
import { RevocationList } from '../store/revocation-list';
import { Session } from './session.entity';
import { SessionsRepository } from './sessions.repository';
import { isUuid } from '../common/ids';
import { secureRandomBytes } from '../common/random';

export interface StartedSession {
  session: Session;
  /** `<session id>.<secret>`: only the secret's keyed hash is stored. */
  refreshToken: string;
}

/** How many rotations back a presented token is still recognised as this session's (reuse). */
const GENERATIONS_CHECKED = 100;

@Injectable()
export class SessionsService {
  constructor(
    private readonly sessions: SessionsRepository,
    private readonly revocations: RevocationList,
    private readonly audit: AuditService,
    private readonly secrets: Secrets,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  /** A new session, not yet stored nor owned, and its first refresh token. */
  open(client: ClientContext): { session: Omit<Session, 'userId'>; refreshToken: string } {
    const now = this.clock.now();
    const secret = secureRandomBytes(32).toString('base64url');
    const expiresAt = now + this.config.jwt.sessionMaxAgeSeconds * 1000;
    const session = {
      id: randomUUID(),
      refreshTokenHash: this.secrets.hashRefreshToken(secret),
      refreshedAt: null,
      refreshExpiresAt: new Date(Math.min(expiresAt, now + this.config.jwt.refreshTtlSeconds * 1000)),
      expiresAt: new Date(expiresAt),
      createdAt: new Date(now),
      lastUsedAt: new Date(now),
      ip: client.ip,
      userAgent: client.userAgent,
      revokedAt: null,
    };
    return { session, refreshToken: formatRefreshToken(session.id, secret) };
  }

  /**
   * Rotates a refresh token. The current token is exchanged for the next one; the one just
   * before it, within the grace, gets that same next one; any older one of the session is reuse
   * of a stolen or leaked token, and ends the session.
   */
  async refresh(refreshToken: string, client: ClientContext): Promise<StartedSession> {
    const parsed = parseRefreshToken(refreshToken);
    let session = parsed && (await this.sessions.findById(parsed.sessionId));
    if (!parsed || !session || !this.isLive(session)) throw invalidRefreshToken();

    const presentedHash = this.secrets.hashRefreshToken(parsed.secret);
    if (presentedHash === session.refreshTokenHash) {
      const next = this.secrets.nextRefreshSecret(parsed.secret);
      const now = this.clock.now();
      const changes = {
        refreshTokenHash: this.secrets.hashRefreshToken(next),
        refreshedAt: new Date(now),
        refreshExpiresAt: new Date(
          Math.min(session.expiresAt.getTime(), now + this.config.jwt.refreshTtlSeconds * 1000),
        ),
        lastUsedAt: new Date(now),
        ip: client.ip,
        userAgent: client.userAgent,
      };
      if (await this.sessions.rotate(session.id, presentedHash, changes)) {
        await this.audit.record([{ type: 'session.refreshed', userId: session.userId, sessionId: session.id, client }]);
        return { session: { ...session, ...changes }, refreshToken: formatRefreshToken(session.id, next) };
      }
      // Another refresh of this token won the race; judge ours against what it wrote.
      session = await this.sessions.findById(session.id);
      if (!session || !this.isLive(session)) throw invalidRefreshToken();
    }

    const generation = this.generationsBehind(parsed.secret, session.refreshTokenHash);
    if (generation === 0) throw invalidRefreshToken();
    const refreshedAt = session.refreshedAt?.getTime() ?? 0;
    // The token just replaced, again within the grace: the same client racing itself (two tabs,
    // a retry after a lost response) gets the same next token instead of a logout.
    if (generation === 1 && this.clock.now() - refreshedAt <= this.config.jwt.refreshGraceSeconds * 1000) {
      return { session, refreshToken: formatRefreshToken(session.id, this.secrets.nextRefreshSecret(parsed.secret)) };
    }
    await this.revoke(session, client, 'refresh_token_reused');
    await this.audit.record([
      {
        type: 'refresh_token.reused',
        userId: session.userId,
        sessionId: session.id,
        client,
        details: { generationsBehind: generation },
      },
    ]);
    throw new ProblemException(
      'refresh_token_reused',
      'This refresh token was already used; the session has been ended. Sign in again.',
    );
  }

  /** The session if it exists and is live. */
  async findLive(sessionId: string): Promise<Session | null> {
    const session = await this.sessions.findById(sessionId);
    return session && this.isLive(session) ? session : null;
  }

  /** The live session a refresh token currently stands for, or null. */
  async findByRefreshToken(refreshToken: string): Promise<Session | null> {
    const parsed = parseRefreshToken(refreshToken);
    const session = parsed && (await this.findLive(parsed.sessionId));
    return session && session.refreshTokenHash === this.secrets.hashRefreshToken(parsed.secret) ? session : null;
  }

  /** Deletes ended sessions in batches, once no access token of theirs can still be alive. */
  async deleteEnded(batch: number): Promise<number> {
    const now = this.clock.now();
    const revokedBefore = new Date(now - this.config.jwt.accessTtlSeconds * 1000);
    let deleted = 0;
    for (let removed = batch; removed === batch; deleted += removed)
      removed = await this.sessions.deleteEnded(new Date(now), revokedBefore, batch);
    return deleted;
  }

  listLive(userId: string): Promise<Session[]> {
    return this.sessions.listLiveOfUser(userId, new Date(this.clock.now()));
  }

  /** Ends one of the user's sessions; false when the user has no such live session. */
  async revokeOwn(userId: string, sessionId: string, client: ClientContext, reason: string): Promise<boolean> {
    if (!isUuid(sessionId)) return false;
    const session = await this.sessions.findById(sessionId);
    if (!session || session.userId !== userId || session.revokedAt) return false;
    return this.revoke(session, client, reason);
  }

  /** Ends every live session of the user, but `keepSessionId` if given. */
  async revokeAllOfUser(
    userId: string,
    client: ClientContext,
    reason: string,
    keepSessionId?: string,
  ): Promise<number> {
    const now = this.clock.now();
    const ids = await this.sessions.revokeAllOfUser(userId, new Date(now), keepSessionId);
    for (const id of ids) await this.revocations.revoke(id, this.lastTokenExpiry(now), now);
    await this.audit.record(
      ids.map((id) => ({ type: 'session.revoked' as const, userId, sessionId: id, client, details: { reason } })),
    );
    return ids.length;
  }

  /** In a deletion's transaction: the ids of every session of the user, whatever their state. */
  idsOfUserWrite(userId: string, manager: EntityManager): Promise<string[]> {
    return this.sessions.idsOfUser(userId, manager);
  }

  /** Every session of the user, live or ended, newest first: what an export of their data shows. */
  listAllOfUser(userId: string): Promise<Session[]> {
    return this.sessions.findAllOfUser(userId);
  }

  /** Access tokens of these sessions stop on every instance, whatever the database says of them. */
  async stopTokens(sessionIds: string[]): Promise<void> {
    const now = this.clock.now();
    for (const id of sessionIds) await this.revocations.revoke(id, this.lastTokenExpiry(now), now);
  }

  private async revoke(session: Session, client: ClientContext, reason: string): Promise<boolean> {
    const now = this.clock.now();
    const revoked = await this.sessions.revoke(session.id, new Date(now));
    // Also when it was already revoked in the database: its access tokens must stop everywhere.
    await this.revocations.revoke(session.id, this.lastTokenExpiry(now), now);
    if (revoked)
      await this.audit.record([
        { type: 'session.revoked', userId: session.userId, sessionId: session.id, client, details: { reason } },
      ]);
    return revoked;
  }

  /** No access token issued before now lives past this. */
  private lastTokenExpiry(now: number): number {
    return now + this.config.jwt.accessTtlSeconds * 1000;
  }

  private isLive(session: Session): boolean {
    const now = this.clock.now();
    return !session.revokedAt && session.expiresAt.getTime() > now && session.refreshExpiresAt.getTime() > now;
  }

  /** How many rotations ago `secret` was this session's token (0: it never was, as far back as we look). */
  private generationsBehind(secret: string, currentHash: string): number {
    let candidate = secret;
    for (let generation = 1; generation <= GENERATIONS_CHECKED; generation++) {
      candidate = this.secrets.nextRefreshSecret(candidate);
      if (this.secrets.hashRefreshToken(candidate) === currentHash) return generation;
    }
    return 0;
  }
}

function formatRefreshToken(sessionId: string, secret: string): string {
  return `${sessionId}.${secret}`;
}

function parseRefreshToken(token: string): { sessionId: string; secret: string } | null {
  const [sessionId, secret, ...rest] = token.split('.');
  return rest.length === 0 && secret && isUuid(sessionId) ? { sessionId, secret } : null;
}

function invalidRefreshToken(): ProblemException {
  return new ProblemException('unauthorized', 'The refresh token is invalid or its session has ended.');
}
