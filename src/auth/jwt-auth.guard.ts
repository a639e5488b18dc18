import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import passport from 'passport';
import { Clock } from '../common/clock';
import { IS_PUBLIC, Principal } from '../common/principal';
import { ProblemException } from '../common/problem.exception';
import { bearerTokenOf, JWT_STRATEGY, JwtStrategy } from './jwt.strategy';
import { VerifiedTokens } from './verified-tokens';

/**
 * Global: every route needs a valid access token unless marked @Public(). A token this instance
 * signed or verified before skips passport until it expires; its revocation is checked every time.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard(JWT_STRATEGY) {
  constructor(
    private readonly reflector: Reflector,
    private readonly strategy: JwtStrategy,
    private readonly verified: VerifiedTokens,
    @Inject(Clock) private readonly clock: Clock,
  ) {
    super();
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<{ user?: Principal }>();
    const token = bearerTokenOf(request);
    const known = token ? this.verified.find(token, this.clock.now()) : undefined;
    if (!known) return super.canActivate(context) as Promise<boolean>;
    if (await this.strategy.isRevoked(known)) throw unauthorized();
    request.user = known.principal;
    return true;
  }

  /**
   * Passport keeps one strategy per name for the whole process, the one registered last. With
   * several applications in one process (the tests), each puts its own back here: AuthGuard asks
   * for the request, then looks the strategy up, with no await in between.
   */
  getRequest(context: ExecutionContext): unknown {
    passport.use(JWT_STRATEGY, this.strategy);
    return super.getRequest(context);
  }

  handleRequest<TUser = Principal>(error: Error | null, principal: TUser | false): TUser {
    if (error) throw error;
    if (!principal) throw unauthorized();
    return principal;
  }
}

function unauthorized(): ProblemException {
  return new ProblemException('unauthorized', 'A valid bearer access token is required.');
}
