import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { RequireAccess } from '../../common/access';
import { Client, ClientContext } from '../../common/client-context';
import { ApiJsonBody, ApiProblems, ApiRestricted } from '../../common/openapi';
import { CurrentPrincipal, Principal } from '../../common/principal';
import { ProblemException } from '../../common/problem.exception';
import { CreateOidcClientDto } from './dto/create-oidc-client.dto';
import { OidcClientListResponse, RegisteredOidcClientResponse } from './dto/oidc-client.response';
import { OidcClientsService } from './oidc-clients.service';

@ApiTags('Admin')
@Controller('api/v1/admin/clients')
@RequireAccess({ roles: ['admin'] })
export class OidcClientsAdminController {
  constructor(private readonly clients: OidcClientsService) {}

  @Post()
  @ApiOperation({
    summary: 'Register an OpenID Connect client',
    description: 'Admins only. The answer carries the client secret of a confidential client; it is never shown again.',
  })
  @ApiRestricted()
  @ApiJsonBody(CreateOidcClientDto)
  @ApiCreatedResponse({ type: RegisteredOidcClientResponse })
  register(
    @Body() body: CreateOidcClientDto,
    @CurrentPrincipal() principal: Principal,
    @Client() client: ClientContext,
  ): Promise<RegisteredOidcClientResponse> {
    return this.clients.register(body, { principal, client });
  }

  @Get()
  @ApiOperation({
    summary: 'List the OpenID Connect clients',
    description: 'Admins only. Without secrets, oldest first.',
  })
  @ApiRestricted()
  @ApiOkResponse({ type: OidcClientListResponse })
  async list(): Promise<OidcClientListResponse> {
    return { items: await this.clients.list() };
  }

  @Delete(':client_id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Remove an OpenID Connect client',
    description: 'Admins only. Every instance refuses the client from its next request on.',
  })
  @ApiRestricted()
  @ApiParam({ name: 'client_id' })
  @ApiNoContentResponse({ description: 'The client is removed.' })
  @ApiProblems('not_found')
  async remove(
    @Param('client_id') clientId: string,
    @CurrentPrincipal() principal: Principal,
    @Client() client: ClientContext,
  ): Promise<void> {
    if (!(await this.clients.remove(clientId, { principal, client })))
      throw new ProblemException('not_found', 'No such client.');
  }
}
