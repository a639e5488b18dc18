import { Body, Controller, Get, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { clientContextOf } from '../common/client-context';
import { normalizeEmail } from '../common/email';
import { Principal, Public } from '../common/principal';
import { asProblemException, ProblemException } from '../common/problem.exception';
import { OtpRateLimited } from '../common/rate-limit.decorator';
import { AccountPages } from './account-pages';
import { sendPage } from './html-reply';
import { WebCookies } from './web-cookies';
import { WebErrorFilter } from './web-error.filter';

type Form = Record<string, unknown>;
const text = (value: unknown) => (typeof value === 'string' ? value : '');

/** The dashboard's account actions: change of address, download of one's data, deletion with a confirmation. */
@ApiExcludeController()
@Public()
@Controller('account')
@UseFilters(WebErrorFilter)
export class AccountPagesController {
  constructor(
    private readonly pages: AccountPages,
    private readonly cookies: WebCookies,
  ) {}

  @Post('email')
  @OtpRateLimited()
  async requestEmailChange(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const csrf = this.cookies.checkedCsrf(request, reply, form?._csrf);
    const principal = await this.pages.principal(this.cookies.sessionToken(request));
    if (!principal) return reply.redirect('/login', 303);
    const newEmail = normalizeEmail(text(form.newEmail)) as string;
    try {
      const ticket = await this.pages.requestEmailChange(principal, newEmail, clientContextOf(request));
      sendPage(reply, 200, this.pages.emailCode(csrf, newEmail, ticket));
    } catch (error) {
      this.refuse(reply, error);
    }
  }

  @Post('email/verify')
  @OtpRateLimited()
  async verifyEmailChange(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const csrf = this.cookies.checkedCsrf(request, reply, form?._csrf);
    const principal = await this.pages.principal(this.cookies.sessionToken(request));
    if (!principal) return reply.redirect('/login', 303);
    const changeId = text(form.changeId);
    const code = text(form.code).replace(/[\s-]/g, '');
    const ticket = { changeId, codeLength: this.pages.codeLength };
    if (!new RegExp(`^\\d{${ticket.codeLength}}$`).test(code))
      return sendPage(
        reply,
        400,
        this.pages.emailCode(
          csrf,
          text(form.newEmail),
          ticket,
          `Enter the ${ticket.codeLength}-digit code from the email.`,
        ),
      );
    try {
      await this.pages.verifyEmailChange(principal, changeId, code, clientContextOf(request));
      reply.redirect('/dashboard', 303);
    } catch (error) {
      const attemptsRemaining = error instanceof ProblemException ? error.options.extras?.attemptsRemaining : undefined;
      if (typeof attemptsRemaining === 'number' && attemptsRemaining > 0) {
        const again = `That code is not right. ${attemptsRemaining} ${attemptsRemaining === 1 ? 'attempt' : 'attempts'} left.`;
        return sendPage(reply, 401, this.pages.emailCode(csrf, text(form.newEmail), ticket, again));
      }
      this.refuse(reply, error);
    }
  }

  @Get('export')
  async export(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const principal = await this.pages.principal(this.cookies.sessionToken(request));
    if (!principal) return reply.redirect('/login', 303);
    reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('content-disposition', 'attachment; filename="my-account.json"')
      .header('cache-control', 'no-store')
      .send(JSON.stringify(await this.pages.export(principal), null, 2));
  }

  @Get('delete')
  async deleteConfirmation(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const principal = await this.pages.principal(this.cookies.sessionToken(request));
    if (!principal) return reply.redirect('/login', 303);
    try {
      await this.pages.checkRecentSignIn(principal);
    } catch (error) {
      return this.refuse(reply, error);
    }
    sendPage(reply, 200, await this.pages.deleteConfirmation(this.cookies.csrfToken(request, reply), principal));
  }

  @Post('delete')
  async delete(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    this.cookies.checkedCsrf(request, reply, form?._csrf);
    const principal: Principal | null = await this.pages.principal(this.cookies.sessionToken(request));
    if (!principal) return reply.redirect('/login', 303);
    try {
      await this.pages.delete(principal, clientContextOf(request));
    } catch (error) {
      return this.refuse(reply, error);
    }
    this.cookies.clearSession(reply);
    sendPage(reply, 200, this.pages.deleted());
  }

  private refuse(reply: FastifyReply, error: unknown): void {
    const problem = asProblemException(error);
    if (!problem) throw error;
    sendPage(reply, problem.status, this.pages.refusal(problem));
  }
}
