import { Controller, Get, Query, StreamableFile } from '@nestjs/common';
import { RequireAccess } from '../auth/access.guard';
import { CurrentPrincipal, Principal } from '../auth/principal';
import { Client, ClientContext } from '../common/client-context';
import { AuditQueryService } from './audit-query.service';
import { AuditFilterDto, AuditQueryDto } from './dto/audit-query.dto';

@Controller('api/v1/admin/audit')
@RequireAccess({ roles: ['admin'], scopes: ['audit:read'] })
export class AuditAdminController {
  constructor(private readonly audit: AuditQueryService) {}

  @Get()
  list(@Query() query: AuditQueryDto, @CurrentPrincipal() principal: Principal, @Client() client: ClientContext) {
    return this.audit.page(query, principal, client);
  }

  @Get('export')
  async export(@Query() query: AuditFilterDto, @CurrentPrincipal() principal: Principal, @Client() client: ClientContext) {
    return new StreamableFile(await this.audit.export(query, principal, client), { type: 'application/x-ndjson' });
  }
}
