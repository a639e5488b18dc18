import { Inject, Injectable } from '@nestjs/common';
import { isEmail } from 'class-validator';
import { AccountService } from '../account/account.service';
import { AccountExportResponse } from '../account/dto/account-export.response';
import { Session } from '../auth/session.entity';
import { SessionsService } from '../auth/sessions.service';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { ClientContext } from '../common/client-context';
import { Principal } from '../common/principal';
import { asProblemException, ProblemException } from '../common/problem.exception';
import { hasControlCharacters } from '../common/text';
import { EmailChangeTicket } from '../otp/otp.service';
import { UsersService } from '../users/users.service';
import { Views } from './views';

/** The dashboard's account pages: change of address, download, deletion; the rules are AccountService's. */
@Injectable()
export class AccountPages {
  constructor(
    private readonly views: Views,
    private readonly account: AccountService,
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The signed-in session of the page's cookie, as the API's rules see a caller. */
  async principal(sessionToken: string | undefined): Promise<Principal | null> {
    const session: Session | null = sessionToken ? await this.sessions.findByRefreshToken(sessionToken) : null;
    if (!session) return null;
    return {
      subject: session.userId,
      userId: session.userId,
      sessionId: session.id,
      email: null,
      roles: [],
      scopes: [],
    };
  }

  requestEmailChange(principal: Principal, newEmail: string, client: ClientContext): Promise<EmailChangeTicket> {
    if (newEmail.length > 254 || hasControlCharacters(newEmail) || !isEmail(newEmail))
      throw new ProblemException('validation_failed', 'newEmail must be an email address.');
    return this.account.requestEmailChange(principal, newEmail, client);
  }

  async verifyEmailChange(principal: Principal, changeId: string, code: string, client: ClientContext) {
    await this.account.verifyEmailChange(principal, changeId, code, client);
  }

  export(principal: Principal): Promise<AccountExportResponse> {
    return this.account.export(principal.userId!);
  }

  /** Deletes the account of the page's session, under the recent-sign-in rule. */
  async delete(principal: Principal, client: ClientContext): Promise<void> {
    const userId = await this.account.recentlySignedIn(principal);
    await this.account.delete(userId, { by: 'self', sessionId: principal.sessionId }, client);
  }

  /** Throws reauthentication_required before a page that would need it is even shown. */
  async checkRecentSignIn(principal: Principal): Promise<void> {
    await this.account.recentlySignedIn(principal);
  }

  get codeLength(): number {
    return this.config.otp.length;
  }

  emailCode(csrf: string, newEmail: string, ticket: { changeId: string; codeLength: number }, error?: string): string {
    const ttlMinutes = Math.max(1, Math.round(this.config.otp.ttlSeconds / 60));
    return this.views.render('account-email-code', 'Confirm your new address', {
      csrf,
      newEmail,
      ttlMinutes,
      changeId: ticket.changeId,
      codeLength: ticket.codeLength,
      error,
    });
  }

  async deleteConfirmation(csrf: string, principal: Principal): Promise<string> {
    const user = await this.users.findById(principal.userId!);
    return this.views.render('account-delete', 'Delete your account', { csrf, email: user?.email });
  }

  deleted(): string {
    return this.views.render('account-message', 'Account deleted', {
      heading: 'Your account is deleted',
      message: 'Your account, its sessions and sign-in codes are gone, and you are signed out everywhere.',
      signedOut: true,
    });
  }

  /** A refusal of an account action, in words, with the way out. */
  refusal(error: unknown): string {
    const problem = asProblemException(error);
    if (!problem) throw error;
    const messages: Partial<Record<string, string>> = {
      reauthentication_required:
        'For your security, this needs a recent sign-in. Sign out, sign in again with a code, then try again.',
      email_taken: 'That address belongs to another account. Your address was not changed.',
      otp_expired: 'That code has expired or was already used. Ask for a new one from your account page.',
      otp_invalid: 'Too many wrong codes. Ask for a new one from your account page.',
      validation_failed: 'Enter a valid email address that is not already your own.',
    };
    return this.views.render('account-message', 'Not done', {
      heading: 'That did not work',
      message: messages[problem.code] ?? problem.detail,
      error: true,
      reauthenticate: problem.code === 'reauthentication_required',
    });
  }
}
