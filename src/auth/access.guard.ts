import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ProblemException } from '../common/problem.exception';
import { REQUIRED_ACCESS, RequiredAccess } from '../common/access';
import { Principal } from '../common/principal';

/** Global, after authentication: a valid token without the role or scope gets 403. */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const required = this.reflector.getAllAndOverride<RequiredAccess | undefined>(REQUIRED_ACCESS, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!required) return true;
    const principal = context.switchToHttp().getRequest<{ user?: Principal }>().user;
    const granted =
      principal !== undefined &&
      ((required.roles ?? []).some((role) => principal.roles.includes(role)) ||
        (required.scopes ?? []).some((scope) => principal.scopes.includes(scope)));
    if (!granted) throw new ProblemException('forbidden', 'This token does not grant access to this resource.');
    return true;
  }
}
