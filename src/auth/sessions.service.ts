import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { ClientContext } from '../common/client-context';
import { Clock } from '../common/clock';
import { Secrets } from '../common/secrets';
import { Session } from './session.entity';
import { SessionsRepository } from './sessions.repository';

export interface StartedSession {
  session: Session;
  /** `<session id>.<secret>`: only the secret's keyed hash is stored. */
  refreshToken: string;
}

@Injectable()
export class SessionsService {
  constructor(
    private readonly sessions: SessionsRepository,
    private readonly secrets: Secrets,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  async start(userId: string, client: ClientContext, manager?: EntityManager): Promise<StartedSession> {
    const now = this.clock.now();
    const secret = randomBytes(32).toString('base64url');
    const session: Session = {
      id: randomUUID(),
      userId,
      refreshTokenHash: this.secrets.hashRefreshToken(secret),
      previousRefreshTokenHash: null,
      refreshedAt: null,
      refreshExpiresAt: new Date(now + this.config.jwt.refreshTtlSeconds * 1000),
      expiresAt: new Date(now + this.config.jwt.sessionMaxAgeSeconds * 1000),
      createdAt: new Date(now),
      lastUsedAt: new Date(now),
      ip: client.ip,
      userAgent: client.userAgent,
      revokedAt: null,
    };
    await this.sessions.insert(session, manager);
    return { session, refreshToken: `${session.id}.${secret}` };
  }
}
