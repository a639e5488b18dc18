import { Body, Controller, Get, Inject, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../common/principal';
import { clientContextOf } from '../common/client-context';
import { normalizeEmail } from '../common/email';
import { asProblemException, ProblemException } from '../common/problem.exception';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { OtpService } from '../otp/otp.service';
import { SignInService } from '../auth/sign-in.service';
import { OtpRateLimited } from '../common/rate-limit.decorator';
import { SignInPages } from './sign-in-pages';
import { sendPage } from './html-reply';
import { WebCookies } from './web-cookies';
import { WebErrorFilter } from './web-error.filter';

type Form = Record<string, unknown>;
const text = (value: unknown) => (typeof value === 'string' ? value : '');

/** The original service's pages: /login → code → /dashboard → /logout. */
@ApiExcludeController()
@Public()
@Controller()
@UseFilters(WebErrorFilter)
export class WebController {
  constructor(
    private readonly otp: OtpService,
    private readonly signIns: SignInService,
    private readonly pages: SignInPages,
    private readonly cookies: WebCookies,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  async home(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    reply.redirect((await this.pages.signedIn(this.cookies.sessionToken(request))) ? '/dashboard' : '/login', 303);
  }

  @Get('login')
  login(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    sendPage(reply, 200, this.pages.login(this.cookies.csrfToken(request, reply)));
  }

  @Post('login')
  @OtpRateLimited()
  async requestCode(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const csrf = this.cookies.checkedCsrf(request, reply, form?._csrf);
    const email = normalizeEmail(text(form.email)) as string;
    if (!this.pages.isEmailAddress(email))
      return sendPage(
        reply,
        400,
        this.pages.login(csrf, { email, error: 'Enter a valid email address, like ada@example.com.' }),
      );
    try {
      const ticket = await this.otp.requestCode(email, clientContextOf(request));
      sendPage(reply, 200, this.pages.code(csrf, email, ticket));
    } catch (error) {
      sendPage(reply, statusOf(error), this.pages.login(csrf, { email, error: this.pages.explain(error) }));
    }
  }

  @Post('login/resend')
  @OtpRateLimited()
  async resend(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const csrf = this.cookies.checkedCsrf(request, reply, form?._csrf);
    const email = text(form.email);
    const sessionId = text(form.sessionId);
    try {
      const ticket = await this.otp.resendCode(sessionId, clientContextOf(request));
      sendPage(
        reply,
        200,
        this.pages.code(csrf, email, ticket, { notice: 'We sent you a new code. The one before still works too.' }),
      );
    } catch (error) {
      if (error instanceof ProblemException && error.code === 'otp_resend_too_soon') {
        const resendAvailableAt =
          typeof error.options.extras?.resendAvailableAt === 'string' ? error.options.extras.resendAvailableAt : '';
        return sendPage(
          reply,
          429,
          this.pages.codeAgain(csrf, email, sessionId, { error: this.pages.explain(error) }, resendAvailableAt),
        );
      }
      sendPage(reply, statusOf(error), this.pages.login(csrf, { email, error: this.pages.explain(error) }));
    }
  }

  @Post('verify-otp')
  @OtpRateLimited()
  verify(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.signIn(form, request, reply);
  }

  /** The mail's link: shows a confirmation and consumes nothing, so link scanners burn no code. */
  @Get('login/link')
  link(
    @Query('session') sessionId: unknown,
    @Query('code') code: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    sendPage(
      reply,
      200,
      this.pages.linkConfirmation(this.cookies.csrfToken(request, reply), text(sessionId), text(code)),
    );
  }

  @Post('login/link')
  @OtpRateLimited()
  linkSignIn(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.signIn(form, request, reply);
  }

  @Get('dashboard')
  async dashboard(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const page = await this.pages.dashboard(this.cookies.sessionToken(request), this.cookies.csrfToken(request, reply));
    if (!page) return reply.redirect('/login', 303);
    sendPage(reply, 200, page);
  }

  @Post('sessions/revoke-others')
  async revokeOthers(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    this.cookies.checkedCsrf(request, reply, form?._csrf);
    await this.pages.revokeOtherSessions(this.cookies.sessionToken(request), clientContextOf(request));
    reply.redirect('/dashboard', 303);
  }

  @Post('logout')
  async logout(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    this.cookies.checkedCsrf(request, reply, form?._csrf);
    await this.signOut(request, reply);
  }

  /** Kept from the original service: a navigation from our pages or typed by the user signs out; a cross-site one only asks. */
  @Get('logout')
  async logoutLink(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const site = request.headers['sec-fetch-site'];
    if (site === 'same-origin' || site === 'none') return this.signOut(request, reply);
    sendPage(reply, 200, this.pages.logoutConfirmation(this.cookies.csrfToken(request, reply)));
  }

  @Get('assets/app.css')
  stylesheet(@Res() reply: FastifyReply) {
    reply
      .header('content-type', 'text/css; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(this.pages.asset('app.css'));
  }

  @Get('assets/app.js')
  script(@Res() reply: FastifyReply) {
    reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(this.pages.asset('app.js'));
  }

  private async signIn(form: Form, request: FastifyRequest, reply: FastifyReply) {
    const csrf = this.cookies.checkedCsrf(request, reply, form?._csrf);
    const sessionId = text(form.sessionId);
    const email = text(form.email);
    const code = text(form.code).replace(/[\s-]/g, '');
    const codeLength = this.config.otp.length;
    if (code.length !== codeLength || !/^\d+$/.test(code)) {
      return sendPage(
        reply,
        400,
        this.pages.codeAgain(csrf, email, sessionId, { error: `Enter the ${codeLength}-digit code from the email.` }),
      );
    }
    const interaction = this.cookies.interaction(request);
    try {
      const signedIn = await this.signIns.withCode(sessionId, code, {
        ...clientContextOf(request),
        oidcClientId: interaction?.clientId,
      });
      this.cookies.setSession(reply, signedIn.refreshToken);
      if (!interaction) return reply.redirect('/dashboard', 303);
      sendPage(reply, 200, this.pages.continueTo(`/oidc/interaction/${encodeURIComponent(interaction.uid)}`));
    } catch (error) {
      const attemptsRemaining = error instanceof ProblemException ? error.options.extras?.attemptsRemaining : undefined;
      if (typeof attemptsRemaining === 'number' && attemptsRemaining > 0) {
        return sendPage(
          reply,
          401,
          this.pages.codeAgain(csrf, email, sessionId, {
            error: `That code is not right. ${attemptsRemaining} ${attemptsRemaining === 1 ? 'attempt' : 'attempts'} left.`,
          }),
        );
      }
      sendPage(reply, statusOf(error), this.pages.login(csrf, { email, error: this.pages.explain(error) }));
    }
  }

  private async signOut(request: FastifyRequest, reply: FastifyReply) {
    await this.pages.signOut(this.cookies.sessionToken(request), clientContextOf(request));
    this.cookies.clearSession(reply);
    reply.redirect('/login', 303);
  }
}

function statusOf(error: unknown): number {
  const problem = asProblemException(error);
  if (problem) return problem.status;
  throw error;
}
