import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { RequireAccess } from '../common/access';
import { Client, ClientContext } from '../common/client-context';
import { ApiJsonBody, ApiProblems, ApiRestricted } from '../common/openapi';
import { CurrentPrincipal, Principal } from '../common/principal';
import { ProblemException } from '../common/problem.exception';
import { CreateWebhookDto } from './dto/create-webhook.dto';
import { RegisteredWebhookResponse, WebhookDeliveryListResponse, WebhookListResponse } from './dto/webhook.response';
import { WebhooksService } from './webhooks.service';

@ApiTags('Admin')
@Controller('api/v1/admin/webhooks')
@RequireAccess({ roles: ['admin'] })
export class WebhooksAdminController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({
    summary: 'Register a webhook endpoint',
    description: 'Admins only. The answer carries the signing secret; it is never shown again.',
  })
  @ApiRestricted()
  @ApiJsonBody(CreateWebhookDto)
  @ApiCreatedResponse({ type: RegisteredWebhookResponse })
  register(
    @Body() body: CreateWebhookDto,
    @CurrentPrincipal() principal: Principal,
    @Client() client: ClientContext,
  ): Promise<RegisteredWebhookResponse> {
    return this.webhooks.register(body, { principal, client });
  }

  @Get()
  @ApiOperation({ summary: 'List the webhook endpoints', description: 'Admins only. Without secrets, oldest first.' })
  @ApiRestricted()
  @ApiOkResponse({ type: WebhookListResponse })
  async list(): Promise<WebhookListResponse> {
    return { items: await this.webhooks.list() };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Remove a webhook endpoint',
    description: 'Admins only. Its pending deliveries and its history go with it.',
  })
  @ApiRestricted()
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse({ description: 'The endpoint is removed.' })
  @ApiProblems('not_found')
  async remove(
    @Param('id') id: string,
    @CurrentPrincipal() principal: Principal,
    @Client() client: ClientContext,
  ): Promise<void> {
    if (!(await this.webhooks.remove(id, { principal, client })))
      throw new ProblemException('not_found', 'No such webhook.');
  }

  @Get(':id/deliveries')
  @ApiOperation({
    summary: 'The delivery history of a webhook endpoint',
    description: 'Admins only. Its latest 100 attempts, newest first.',
  })
  @ApiRestricted()
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: WebhookDeliveryListResponse })
  @ApiProblems('not_found')
  async deliveries(@Param('id') id: string): Promise<WebhookDeliveryListResponse> {
    const items = await this.webhooks.deliveries(id);
    if (!items) throw new ProblemException('not_found', 'No such webhook.');
    return { items };
  }
}
