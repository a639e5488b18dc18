import { Controller, Get, Query } from '@nestjs/common';
import { RequireAccess } from '../auth/access.guard';
import { UsersQueryDto } from './dto/users-query.dto';
import { UsersService } from './users.service';

@Controller('api/v1/admin/users')
export class UsersAdminController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @RequireAccess({ roles: ['admin'], scopes: ['users:read'] })
  list(@Query() query: UsersQueryDto) {
    return this.users.listForAdmin(query);
  }
}
