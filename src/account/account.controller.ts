import { Body, Controller, Delete, Get, Header, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Client, ClientContext } from '../common/client-context';
import { ApiJsonBody, ApiProblems, ApiSignedIn } from '../common/openapi';
import { OtpRateLimited } from '../common/rate-limit.decorator';
import { ProfileResponse } from '../users/dto/user.response';
import { CurrentPrincipal, Principal, userIdOf } from '../common/principal';
import { AccountService } from './account.service';
import { AccountExportResponse } from './dto/account-export.response';
import { EmailChangeTicketResponse, RequestEmailChangeDto, VerifyEmailChangeDto } from './dto/email-change.dto';

@ApiTags('Users')
@Controller('api/v1/users/me')
export class AccountController {
  constructor(private readonly account: AccountService) {}

  @Post('email')
  @HttpCode(202)
  @OtpRateLimited()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Mail a code to a new address for the signed-in user',
    description:
      'Needs a recent sign-in (`ACCOUNT_REAUTH_SECONDS`). The code is under the limits of the new address’s ' +
      'sign-in codes. The same answer whether or not the address already belongs to someone.',
  })
  @ApiSignedIn()
  @ApiJsonBody(RequestEmailChangeDto)
  @ApiAcceptedResponse({ type: EmailChangeTicketResponse })
  @ApiProblems('reauthentication_required', 'forbidden', 'otp_resend_too_soon', 'rate_limited', 'mail_unavailable')
  requestEmailChange(
    @CurrentPrincipal() principal: Principal,
    @Body() body: RequestEmailChangeDto,
    @Client() client: ClientContext,
  ): Promise<EmailChangeTicketResponse> {
    return this.account.requestEmailChange(principal, body.newEmail, client);
  }

  @Post('email/verify')
  @HttpCode(200)
  @OtpRateLimited()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Confirm the new address with its code',
    description:
      'The user moves to the new address; the old one gets a notice. Other sessions stay signed in and their ' +
      'next access token carries the new `email`. `409 email_taken` ends the change.',
  })
  @ApiSignedIn()
  @ApiJsonBody(VerifyEmailChangeDto)
  @ApiOkResponse({ type: ProfileResponse })
  @ApiProblems('otp_invalid', 'otp_expired', 'email_taken', 'forbidden', 'rate_limited')
  verifyEmailChange(
    @CurrentPrincipal() principal: Principal,
    @Body() body: VerifyEmailChangeDto,
    @Client() client: ClientContext,
  ): Promise<ProfileResponse> {
    return this.account.verifyEmailChange(principal, body.changeId, body.code, client);
  }

  @Get('export')
  @Header('Cache-Control', 'no-store')
  @Header('Content-Disposition', 'attachment; filename="my-account.json"')
  @ApiOperation({
    summary: 'Download everything kept about the signed-in user',
    description: 'The profile, every session still on record and the user’s own audit events.',
  })
  @ApiSignedIn()
  @ApiOkResponse({ type: AccountExportResponse })
  @ApiProblems('forbidden')
  export(@CurrentPrincipal() principal: Principal): Promise<AccountExportResponse> {
    return this.account.export(userIdOf(principal));
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete the signed-in user’s account',
    description:
      'Needs a recent sign-in (`ACCOUNT_REAUTH_SECONDS`). The user, their sessions and code records are deleted and ' +
      'every token of theirs stops at once; their audit events stay until `AUDIT_RETENTION_DAYS`.',
  })
  @ApiSignedIn()
  @ApiNoContentResponse({ description: 'The account is deleted.' })
  @ApiProblems('reauthentication_required', 'forbidden')
  async delete(@CurrentPrincipal() principal: Principal, @Client() client: ClientContext): Promise<void> {
    const userId = await this.account.recentlySignedIn(principal);
    await this.account.delete(userId, { by: 'self', sessionId: principal.sessionId }, client);
  }
}
