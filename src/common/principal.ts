import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ProblemException } from './problem.exception';

/** Who a verified access token speaks for: a signed-in user, or an internal service. */
export interface Principal {
  subject: string;
  userId: string | null;
  sessionId: string | null;
  email: string | null;
  roles: string[];
  scopes: string[];
}

export const IS_PUBLIC = 'isPublic';

/** The route answers without a bearer token. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

export const CurrentPrincipal = createParamDecorator(
  (_: unknown, context: ExecutionContext): Principal => context.switchToHttp().getRequest<{ user: Principal }>().user,
);

/** The signed-in user's id; a service's token gets 403 on routes that are for users. */
export function userIdOf(principal: Principal): string {
  if (!principal.userId) throw new ProblemException('forbidden', 'This endpoint is for signed-in users, not services.');
  return principal.userId;
}
