import { Controller, Delete, Get, Header, HttpCode } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Client, ClientContext } from '../common/client-context';
import { ApiProblems, ApiSignedIn } from '../common/openapi';
import { CurrentPrincipal, Principal, userIdOf } from '../common/principal';
import { AccountService } from './account.service';
import { AccountExportResponse } from './dto/account-export.response';

@ApiTags('Users')
@Controller('api/v1/users/me')
export class AccountController {
  constructor(private readonly account: AccountService) {}

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
