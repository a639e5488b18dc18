import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Client, ClientContext } from '../common/client-context';
import { ProblemException } from '../common/problem.exception';
import { ApiProblems, ApiRestricted } from '../common/openapi';
import { UsersService } from '../users/users.service';
import { RequireAccess } from '../common/access';
import { SessionsService } from './sessions.service';
import { isUuid } from '../common/ids';

@ApiTags('Admin')
@Controller('api/v1/admin/users')
export class AdminSessionsController {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
  ) {}

  @Post(':id/revoke-sessions')
  @HttpCode(204)
  @RequireAccess({ roles: ['admin'] })
  @ApiOperation({ summary: 'Revoke every session of a user', description: 'Admins only.' })
  @ApiRestricted()
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse({ description: 'Every session of the user is revoked.' })
  @ApiProblems('not_found')
  async revokeAll(@Param('id') userId: string, @Client() client: ClientContext): Promise<void> {
    if (!isUuid(userId) || !(await this.users.findById(userId)))
      throw new ProblemException('not_found', 'No such user.');
    await this.sessions.revokeAllOfUser(userId, client, 'revoked_by_admin');
  }
}
