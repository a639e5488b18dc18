import { Controller, Delete, HttpCode, Param } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { RequireAccess } from '../common/access';
import { Client, ClientContext } from '../common/client-context';
import { isUuid } from '../common/ids';
import { ApiProblems, ApiRestricted } from '../common/openapi';
import { CurrentPrincipal, Principal } from '../common/principal';
import { ProblemException } from '../common/problem.exception';
import { AccountService } from './account.service';

@ApiTags('Admin')
@Controller('api/v1/admin/users')
export class AccountAdminController {
  constructor(private readonly account: AccountService) {}

  @Delete(':id')
  @HttpCode(204)
  @RequireAccess({ roles: ['admin'] })
  @ApiOperation({
    summary: 'Delete a user’s account',
    description: 'Admins only. The same as the user deleting their own account.',
  })
  @ApiRestricted()
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse({ description: 'The account is deleted.' })
  @ApiProblems('not_found')
  async delete(
    @Param('id') userId: string,
    @CurrentPrincipal() admin: Principal,
    @Client() client: ClientContext,
  ): Promise<void> {
    if (!isUuid(userId) || !(await this.account.delete(userId, { by: 'admin', admin }, client)))
      throw new ProblemException('not_found', 'No such user.');
  }
}
