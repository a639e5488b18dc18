import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { ClientContext } from '../common/client-context';
import { ProblemException } from '../common/problem.exception';
import { RevocationList } from '../store/revocation-list';
import { UsersService } from '../users/users.service';
import { Principal, userIdOf } from '../common/principal';
import { IntrospectionResponse, SessionListResponse, SignedInResponse } from './dto/auth.responses';
import { ServiceTokensService } from './service-tokens.service';
import { SessionsService } from './sessions.service';
import { TokensService } from './tokens.service';

/** The claims of an access token as we sign them, which a verified token therefore carries. */
type AccessTokenIntrospection = Pick<
  IntrospectionResponse,
  'sub' | 'sid' | 'exp' | 'iat' | 'iss' | 'aud' | 'email' | 'roles' | 'scope'
>;

@Injectable()
export class AuthService {
  constructor(
    private readonly sessions: SessionsService,
    private readonly tokens: TokensService,
    private readonly users: UsersService,
    private readonly revocations: RevocationList,
    private readonly serviceTokens: ServiceTokensService,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  async refresh(refreshToken: string, client: ClientContext): Promise<SignedInResponse> {
    const { session, refreshToken: next } = await this.sessions.refresh(refreshToken, client);
    const user = await this.users.findById(session.userId);
    if (!user) throw new ProblemException('unauthorized', 'The refresh token is invalid or its session has ended.');
    return this.tokens.signedIn(user, session, next);
  }

  async logout(principal: Principal, client: ClientContext): Promise<void> {
    if (principal.userId && principal.sessionId)
      await this.sessions.revokeOwn(principal.userId, principal.sessionId, client, 'logout');
  }

  async listSessions(principal: Principal): Promise<SessionListResponse> {
    const sessions = await this.sessions.listLive(userIdOf(principal));
    return {
      items: sessions.map((session) => ({
        id: session.id,
        createdAt: session.createdAt.toISOString(),
        lastUsedAt: session.lastUsedAt.toISOString(),
        ip: session.ip,
        userAgent: session.userAgent,
        current: session.id === principal.sessionId,
      })),
    };
  }

  async revokeSession(principal: Principal, sessionId: string, client: ClientContext): Promise<void> {
    if (!(await this.sessions.revokeOwn(userIdOf(principal), sessionId, client, 'revoked_by_user'))) {
      throw new ProblemException('not_found', 'You have no such session.');
    }
  }

  /** Access tokens are checked like any request's; refresh tokens against their session. */
  async introspect(token: string, hint?: 'access_token' | 'refresh_token'): Promise<IntrospectionResponse> {
    const order =
      hint === 'refresh_token'
        ? [(given: string) => this.introspectRefresh(given), (given: string) => this.introspectAccess(given)]
        : [(given: string) => this.introspectAccess(given), (given: string) => this.introspectRefresh(given)];
    for (const attempt of order) {
      const answer = await attempt(token);
      if (answer.active) return answer;
    }
    return { active: false };
  }

  private async introspectAccess(token: string): Promise<IntrospectionResponse> {
    const payload = this.tokens.verifyAccessToken(token);
    if (!payload) return { active: false };
    if (typeof payload.sid === 'string') {
      const live =
        !(await this.revocations.isRevoked(payload.sid, this.clock.now())) &&
        (await this.sessions.findLive(payload.sid));
      if (!live) return { active: false };
    }
    if (
      typeof payload.sub === 'string' &&
      payload.sub.startsWith('service:') &&
      (await this.serviceTokens.isRevoked(payload.jti))
    )
      return { active: false };
    const { sub, sid, exp, iat, iss, aud, email, roles, scope } = payload as AccessTokenIntrospection;
    return { active: true, token_type: 'access_token', sub, sid, exp, iat, iss, aud, email, roles, scope };
  }

  private async introspectRefresh(token: string): Promise<IntrospectionResponse> {
    const session = await this.sessions.findByRefreshToken(token);
    if (!session) return { active: false };
    return {
      active: true,
      token_type: 'refresh_token',
      sub: session.userId,
      sid: session.id,
      iat: Math.floor(session.createdAt.getTime() / 1000),
      exp: Math.floor(session.refreshExpiresAt.getTime() / 1000),
    };
  }
}
