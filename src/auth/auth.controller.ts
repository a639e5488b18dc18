import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post } from '@nestjs/common';
import { Client, ClientContext } from '../common/client-context';
import { RequireAccess } from './access.guard';
import { AuthService } from './auth.service';
import { IntrospectDto, RefreshDto } from './dto/auth.dto';
import { CurrentPrincipal, Principal, Public } from './principal';

@Controller('api/v1/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('refresh')
  @HttpCode(200)
  refresh(@Body() body: RefreshDto, @Client() client: ClientContext) {
    return this.auth.refresh(body.refreshToken, client);
  }

  @Post('logout')
  @HttpCode(204)
  logout(@CurrentPrincipal() principal: Principal, @Client() client: ClientContext) {
    return this.auth.logout(principal, client);
  }

  @Get('sessions')
  sessions(@CurrentPrincipal() principal: Principal) {
    return this.auth.listSessions(principal);
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  revokeSession(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Client() client: ClientContext) {
    return this.auth.revokeSession(principal, id, client);
  }

  @Post('introspect')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @RequireAccess({ scopes: ['tokens:introspect'] })
  introspect(@Body() body: IntrospectDto) {
    return this.auth.introspect(body.token, body.token_type_hint);
  }
}
