import { Controller, Get, Query, StreamableFile } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { RequireAccess } from '../common/access';
import { CurrentPrincipal, Principal } from '../common/principal';
import { Client, ClientContext } from '../common/client-context';
import { ApiProblems, ApiRestricted } from '../common/openapi';
import { AuditEventResponse, AuditPageResponse } from './dto/audit-event.response';
import { AuditQueryService } from './audit-query.service';
import { AuditFilterDto, AuditQueryDto } from './dto/audit-query.dto';

@ApiTags('Admin')
@ApiExtraModels(AuditEventResponse)
@Controller('api/v1/admin/audit')
@RequireAccess({ roles: ['admin'], scopes: ['audit:read'] })
export class AuditAdminController {
  constructor(private readonly audit: AuditQueryService) {}

  @Get()
  @ApiOperation({
    summary: 'Read the audit trail',
    description: 'Admins, or service tokens with scope `audit:read`. Newest first, keyset-paginated.',
  })
  @ApiRestricted()
  @ApiOkResponse({ type: AuditPageResponse })
  @ApiProblems('validation_failed')
  list(
    @Query() query: AuditQueryDto,
    @CurrentPrincipal() principal: Principal,
    @Client() client: ClientContext,
  ): Promise<AuditPageResponse> {
    return this.audit.page(query, principal, client);
  }

  @Get('export')
  @ApiOperation({
    summary: 'Export the audit trail as NDJSON',
    description: 'Admins, or service tokens with scope `audit:read`. One event per line, oldest first.',
  })
  @ApiRestricted()
  @ApiOkResponse({
    description: 'One AuditEvent JSON object per line.',
    content: { 'application/x-ndjson': { schema: { $ref: getSchemaPath(AuditEventResponse) } } },
  })
  @ApiProblems('validation_failed')
  async export(
    @Query() query: AuditFilterDto,
    @CurrentPrincipal() principal: Principal,
    @Client() client: ClientContext,
  ) {
    return new StreamableFile(await this.audit.export(query, principal, client), { type: 'application/x-ndjson' });
  }
}
