import { Body, Controller, Get, Header, Patch } from '@nestjs/common';
import { CurrentPrincipal, Principal } from '../auth/principal';
import { userIdOf } from '../auth/auth.service';
import { UpdateProfileDto } from './dto/update-profile.dto';
import { ProfileView, UsersService } from './users.service';

@Controller('api/v1/users/me')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  me(@CurrentPrincipal() principal: Principal): Promise<ProfileView> {
    return this.users.getProfile(userIdOf(principal));
  }

  @Patch()
  @Header('Cache-Control', 'no-store')
  update(@CurrentPrincipal() principal: Principal, @Body() body: UpdateProfileDto): Promise<ProfileView> {
    return this.users.updateProfile(userIdOf(principal), body);
  }
}
