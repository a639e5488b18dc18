import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireAccess } from '../common/access';
import { ApiProblems, ApiRestricted } from '../common/openapi';
import { UserPageResponse } from './dto/user.response';
import { UsersQueryDto } from './dto/users-query.dto';
import { UsersService } from './users.service';

@ApiTags('Admin')
@Controller('api/v1/admin/users')
export class UsersAdminController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @RequireAccess({ roles: ['admin'], scopes: ['users:read'] })
  @ApiOperation({
    summary: 'List users',
    description: 'Admins, or service tokens with scope `users:read`. Newest first, keyset-paginated.',
  })
  @ApiRestricted()
  @ApiOkResponse({ type: UserPageResponse })
  @ApiProblems('validation_failed')
  list(@Query() query: UsersQueryDto): Promise<UserPageResponse> {
    return this.users.listForAdmin(query);
  }
}
