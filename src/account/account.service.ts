import { Inject, Injectable } from '@nestjs/common';
import { AuditQueryService } from '../audit/audit-query.service';
import { SessionsService } from '../auth/sessions.service';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { ClientContext } from '../common/client-context';
import { Clock } from '../common/clock';
import { Principal, userIdOf } from '../common/principal';
import { ProblemException } from '../common/problem.exception';
import { profileView, UsersService } from '../users/users.service';
import { AccountRepository } from './account.repository';
import { AccountExportResponse } from './dto/account-export.response';

/** Who deletes an account: its user, or an admin. */
export type Deleter = { by: 'self'; sessionId: string | null } | { by: 'admin'; admin: Principal };

/** The account's lifecycle past sign-in: the recent-sign-in rule, export and deletion. */
@Injectable()
export class AccountService {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly auditTrail: AuditQueryService,
    private readonly accounts: AccountRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  /**
   * The user's id when their session's last code sign-in is at most ACCOUNT_REAUTH_SECONDS old.
   * A session's `createdAt` is that sign-in: refreshing it does not move it, and an OpenID app's
   * token names the same session (`sid`).
   */
  async recentlySignedIn(principal: Principal): Promise<string> {
    const userId = userIdOf(principal);
    const session = principal.sessionId ? await this.sessions.findLive(principal.sessionId) : null;
    if (!session || session.userId !== userId)
      throw new ProblemException('unauthorized', 'The session of this token has ended.');
    if (this.clock.now() - session.createdAt.getTime() > this.config.accountReauthSeconds * 1000)
      throw new ProblemException(
        'reauthentication_required',
        'This needs a recent sign-in: sign in again with a code, then retry.',
      );
    return userId;
  }

  /** Everything the service keeps of the user: profile, sessions and their own audit events. */
  async export(userId: string): Promise<AccountExportResponse> {
    const user = await this.users.findFresh(userId);
    if (!user) throw new ProblemException('unauthorized', 'The user of this token no longer exists.');
    const [sessions, auditEvents] = await Promise.all([
      this.sessions.listAllOfUser(userId),
      this.auditTrail.ofUser(userId),
    ]);
    return {
      exportedAt: new Date(this.clock.now()).toISOString(),
      user: profileView(user),
      sessions: sessions.map((session) => ({
        id: session.id,
        createdAt: session.createdAt.toISOString(),
        lastUsedAt: session.lastUsedAt.toISOString(),
        expiresAt: session.expiresAt.toISOString(),
        revokedAt: session.revokedAt?.toISOString() ?? null,
        ip: session.ip,
        userAgent: session.userAgent,
      })),
      auditEvents,
    };
  }

  /**
   * Deletes the user with their sessions and code records; false when there is no such user.
   * Their access tokens stop on every instance first, through the revocation list, so nothing
   * they hold works while the rows go; audit events stay until retention.
   */
  async delete(userId: string, deleter: Deleter, client: ClientContext): Promise<boolean> {
    const user = await this.users.findFresh(userId);
    if (!user) return false;
    const reason = deleter.by === 'self' ? 'user_deleted' : 'user_deleted_by_admin';
    await this.sessions.revokeAllOfUser(userId, client, reason);
    const deleted = await this.accounts.deleteUser(user, new Date(this.clock.now()), [
      {
        type: 'user.deleted',
        userId,
        email: user.email,
        client,
        sessionId: deleter.by === 'admin' ? deleter.admin.sessionId : deleter.sessionId,
        details:
          deleter.by === 'admin'
            ? { by: 'admin', adminId: deleter.admin.userId ?? deleter.admin.subject }
            : { by: 'self' },
      },
    ]);
    if (!deleted) return false;
    // Sessions a racing sign-in opened after the revocation above.
    await this.sessions.stopTokens(deleted);
    await this.users.forget(userId);
    return true;
  }
}
