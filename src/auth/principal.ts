import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';

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
