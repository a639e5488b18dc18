import { Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthService } from '../auth/auth.service';
import { bearerTokenOf } from '../auth/jwt.strategy';
import { Public } from '../common/principal';
import { UsersService } from '../users/users.service';

/**
 * OpenID Connect's userinfo endpoint. Ours rather than the library's: the library answers only for
 * opaque tokens, and our access tokens are RFC 9068 JWTs. A token is good here exactly when
 * introspection says it is active, and only with the `openid` scope.
 */
@ApiExcludeController()
@Public()
@Controller('oidc/me')
export class OidcUserinfoController {
  constructor(
    private readonly auth: AuthService,
    private readonly users: UsersService,
  ) {}

  @Get()
  get(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.userinfo(request, reply);
  }

  @Post()
  @HttpCode(200)
  post(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.userinfo(request, reply);
  }

  private async userinfo(request: FastifyRequest, reply: FastifyReply) {
    reply.header('cache-control', 'no-store').header('access-control-allow-origin', '*');
    const token = bearerTokenOf(request);
    if (!token)
      return refuse(reply, 401, 'invalid_token', 'no access token: send it as a Bearer token', { challengeOnly: true });
    const introspection = await this.auth.introspect(token, 'access_token');
    const scopes = new Set(
      introspection.active && introspection.token_type === 'access_token' ? (introspection.scope ?? '').split(' ') : [],
    );
    const user = introspection.active && introspection.sub ? await this.users.findById(introspection.sub) : null;
    if (!user) return refuse(reply, 401, 'invalid_token', 'the access token is invalid, expired or revoked');
    if (!scopes.has('openid'))
      return refuse(reply, 403, 'insufficient_scope', 'the access token lacks the openid scope');
    reply.send({
      sub: user.id,
      ...(scopes.has('email') ? { email: user.email, email_verified: true } : {}),
      ...(scopes.has('profile') && user.name ? { name: user.name } : {}),
    });
  }
}

/**
 * RFC 6750 §3: the error in WWW-Authenticate and, as OpenID clients expect, in a JSON body. A request
 * that sent no token gets the bare challenge (§3.1), as the library's own userinfo endpoint answers.
 */
function refuse(
  reply: FastifyReply,
  status: number,
  error: string,
  description: string,
  { challengeOnly = false } = {},
) {
  reply
    .status(status)
    .header(
      'www-authenticate',
      challengeOnly ? 'Bearer' : `Bearer error="${error}", error_description="${description}"`,
    )
    .send({ error, error_description: description });
}
