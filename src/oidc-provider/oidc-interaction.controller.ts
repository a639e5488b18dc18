import { Controller, Get, Inject, Param, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Clock } from '../common/clock';
import { Public } from '../common/principal';
import { sendPage } from '../web/html-reply';
import { SignInPages } from '../web/sign-in-pages';
import { WebCookies } from '../web/web-cookies';
import { WebErrorFilter } from '../web/web-error.filter';
import { authTimeOf, INTERACTION_TTL_SECONDS, OidcProvider } from './oidc-provider.service';

/**
 * The login and consent steps of an authorization. Login is our sign-in pages: a browser signed in
 * there goes straight back; otherwise it signs in and the pages send it back here. Consent is never
 * asked: registered clients are first-party.
 */
@ApiExcludeController()
@Public()
@Controller('oidc/interaction')
@UseFilters(WebErrorFilter)
export class OidcInteractionController {
  constructor(
    private readonly oidc: OidcProvider,
    private readonly cookies: WebCookies,
    private readonly pages: SignInPages,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  @Get(':uid')
  async interaction(@Param('uid') uid: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const details = await this.oidc.interactionDetails(request.raw, reply.raw).catch(() => undefined);
    if (!details || details.uid !== uid) {
      return sendPage(
        reply,
        400,
        this.pages.error(
          'This sign-in request has expired',
          'It was started too long ago or in another browser. Go back to the app and try again.',
        ),
      );
    }
    if (details.prompt.name !== 'login') {
      const grantId = await this.oidc.grantMissing(details);
      return this.resume(request, reply, { consent: { grantId } });
    }
    const session = await this.oidc.browserSession(this.cookies.sessionToken(request));
    const pending = this.cookies.interaction(request);
    const signedInSince = pending?.uid === uid ? pending.sentAt : undefined;
    if (session && OidcProvider.sessionAnswers(details.prompt.reasons, session, signedInSince)) {
      this.cookies.clearInteraction(reply);
      return this.resume(request, reply, { login: { accountId: session.userId, ts: authTimeOf(session) } });
    }
    const clientId = String(details.params.client_id);
    this.cookies.setInteraction(reply, { uid, clientId, sentAt: this.clock.now() }, INTERACTION_TTL_SECONDS);
    reply.redirect('/login', 303);
  }

  private async resume(
    request: FastifyRequest,
    reply: FastifyReply,
    result: Parameters<OidcProvider['interactionResult']>[2],
  ) {
    const next = await this.oidc.interactionResult(request.raw, reply.raw, result);
    reply.header('cache-control', 'no-store').redirect(next, 303);
  }
}
