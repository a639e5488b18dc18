import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditQueryService } from '../audit/audit-query.service';
import { SessionsService } from '../auth/sessions.service';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { ClientContext } from '../common/client-context';
import { Clock } from '../common/clock';
import { Principal, userIdOf } from '../common/principal';
import { ProblemException } from '../common/problem.exception';
import { MailService } from '../mail/mail.service';
import { EmailChangeTicket, OtpService } from '../otp/otp.service';
import { ProfileResponse } from '../users/dto/user.response';
import { User } from '../users/user.entity';
import { profileView, UsersService } from '../users/users.service';
import { AccountRepository } from './account.repository';
import { AccountExportResponse } from './dto/account-export.response';

/** Who deletes an account: its user, or an admin. */
export type Deleter = { by: 'self'; sessionId: string | null } | { by: 'admin'; admin: Principal };

/** The account's lifecycle past sign-in: the recent-sign-in rule, export and deletion. */
@Injectable()
export class AccountService {
  private readonly logger = new Logger(AccountService.name);

  constructor(
    private readonly users: UsersService,
    private readonly otp: OtpService,
    private readonly mail: MailService,
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

  /**
   * Mails a code to the new address. The answer is the same whether or not the address belongs
   * to someone: that is told only to whoever proves they read its mail (verification).
   */
  async requestEmailChange(principal: Principal, newEmail: string, client: ClientContext): Promise<EmailChangeTicket> {
    const userId = await this.recentlySignedIn(principal);
    const user = await this.existing(userId);
    if (newEmail === user.email)
      throw new ProblemException('validation_failed', 'newEmail is already the address of this account.', {
        extras: { errors: [{ field: 'newEmail', message: 'newEmail is already the address of this account' }] },
      });
    return this.otp.requestEmailChangeCode(userId, newEmail, client);
  }

  /**
   * Moves the user to the address the code proves, then tells the old address (the new one
   * masked, nothing to click). Sessions stay; their next token carries the new address.
   */
  async verifyEmailChange(
    principal: Principal,
    changeId: string,
    code: string,
    client: ClientContext,
  ): Promise<ProfileResponse> {
    const userId = userIdOf(principal);
    const user = await this.existing(userId);
    const newEmail = await this.otp.verifyEmailChangeCode(userId, changeId, code, client);
    const outcome = await this.accounts.changeEmail(userId, newEmail, new Date(this.clock.now()), [
      {
        type: 'user.email_changed',
        userId,
        email: newEmail,
        sessionId: principal.sessionId,
        client,
        details: { previousEmail: user.email, loginId: changeId },
      },
    ]);
    if (outcome === 'taken')
      throw new ProblemException('email_taken', 'This address belongs to another account; request a new change.');
    if (outcome === 'gone') throw new ProblemException('unauthorized', 'The user of this token no longer exists.');
    await this.users.forget(userId);
    await this.mail
      .sendEmailChangedNotice({ to: user.email, newEmail, acceptLanguage: client.locale })
      .catch((error: Error) =>
        this.logger.warn({
          msg: `The notice of an address change could not be mailed to the old address: ${error.message}`,
          requestId: client.requestId,
        }),
      );
    return profileView(await this.existing(userId));
  }

  /** Everything the service keeps of the user: profile, sessions and their own audit events. */
  async export(userId: string): Promise<AccountExportResponse> {
    const user = await this.existing(userId);
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

  private async existing(userId: string): Promise<User> {
    const user = await this.users.findFresh(userId);
    if (!user) throw new ProblemException('unauthorized', 'The user of this token no longer exists.');
    return user;
  }
}
