import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ProblemException } from '../common/problem.exception';
import { JwtStrategy } from './jwt.strategy';
import { IS_PUBLIC, Principal } from '../common/principal';

/** Global: every route needs a valid access token unless marked @Public(). */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly strategy: JwtStrategy,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<{ user?: Principal }>();
    const principal = await this.strategy.authenticateRequest(request);
    if (!principal) throw new ProblemException('unauthorized', 'A valid bearer access token is required.');
    request.user = principal;
    return true;
  }
}
