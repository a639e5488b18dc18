import { Injectable } from '@nestjs/common';
import { ClientContext } from '../common/client-context';
import { OtpService } from '../otp/otp.service';
import { UsersService } from '../users/users.service';
import { SignedInResponse } from './dto/auth.responses';
import { SessionsService } from './sessions.service';
import { SignInRepository } from './sign-in.repository';
import { TokensService } from './tokens.service';

/** A right code becomes a signed-in user: the user found or created, a new session, its tokens. */
@Injectable()
export class SignInService {
  constructor(
    private readonly otp: OtpService,
    private readonly sessions: SessionsService,
    private readonly signIns: SignInRepository,
    private readonly users: UsersService,
    private readonly tokens: TokensService,
  ) {}

  /** If the sign-in cannot be written, the login the right code ended is given back so its codes still work. */
  async withCode(loginId: string, code: string, client: ClientContext): Promise<SignedInResponse> {
    const login = await this.otp.verifyCode(loginId, code, client);
    const opened = this.sessions.open(client);
    const { user, session } = await this.signIns
      .record({ login, session: opened.session, client })
      .catch(async (error: unknown) => {
        await this.otp.restoreLogin(login).catch(() => undefined);
        throw error;
      });
    await this.users.signedIn(user, session.createdAt);
    return this.tokens.signedIn(user, session, opened.refreshToken);
  }
}
