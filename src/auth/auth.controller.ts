import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Client, ClientContext } from '../common/client-context';
import { ApiJsonBody, ApiProblems, ApiRestricted, ApiSignedIn } from '../common/openapi';
import { IntrospectionResponse, SessionListResponse, SignedInResponse } from './dto/auth.responses';
import { RequireAccess } from '../common/access';
import { AuthService } from './auth.service';
import { IntrospectDto, RefreshDto } from './dto/auth.dto';
import { CurrentPrincipal, Principal, Public } from '../common/principal';

@ApiTags('Sessions and tokens')
@Controller('api/v1/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rotate a refresh token',
    description: 'Single use: answers a new refresh token. Presenting a rotated one revokes the whole session.',
  })
  @ApiJsonBody(RefreshDto)
  @ApiOkResponse({ type: SignedInResponse })
  @ApiProblems('unauthorized', 'refresh_token_reused')
  refresh(@Body() body: RefreshDto, @Client() client: ClientContext): Promise<SignedInResponse> {
    return this.auth.refresh(body.refreshToken, client);
  }

  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'Sign out: revoke this token’s session' })
  @ApiSignedIn()
  @ApiNoContentResponse({ description: 'The session is revoked; its access and refresh tokens stop working.' })
  logout(@CurrentPrincipal() principal: Principal, @Client() client: ClientContext) {
    return this.auth.logout(principal, client);
  }

  @Get('sessions')
  @ApiOperation({ summary: 'List the signed-in user’s live sessions' })
  @ApiSignedIn()
  @ApiOkResponse({ type: SessionListResponse })
  sessions(@CurrentPrincipal() principal: Principal): Promise<SessionListResponse> {
    return this.auth.listSessions(principal);
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke one of the user’s own sessions' })
  @ApiSignedIn()
  @ApiParam({ name: 'id', description: 'A session id from GET /api/v1/auth/sessions.' })
  @ApiNoContentResponse({ description: 'The session is revoked.' })
  @ApiProblems('not_found')
  revokeSession(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Client() client: ClientContext) {
    return this.auth.revokeSession(principal, id, client);
  }

  @Post('introspect')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Introspect a token (RFC 7662)',
    description: 'For service tokens with scope `tokens:introspect`. `active` is false for revoked sessions.',
  })
  @ApiRestricted()
  @ApiJsonBody(IntrospectDto)
  @ApiOkResponse({ type: IntrospectionResponse })
  @RequireAccess({ scopes: ['tokens:introspect'] })
  introspect(@Body() body: IntrospectDto): Promise<IntrospectionResponse> {
    return this.auth.introspect(body.token, body.token_type_hint);
  }
}
