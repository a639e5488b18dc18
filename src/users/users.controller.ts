import { Body, Controller, Get, Header, Patch } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Principal } from '../common/principal';
import { userIdOf } from '../common/principal';
import { ApiJsonBody, ApiProblems, ApiSignedIn } from '../common/openapi';
import { ProfileResponse } from './dto/user.response';
import { UpdateProfileDto } from './dto/update-profile.dto';
import { UsersService } from './users.service';

@ApiTags('Users')
@Controller('api/v1/users/me')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'The signed-in user’s profile' })
  @ApiSignedIn()
  @ApiOkResponse({ type: ProfileResponse })
  @ApiProblems('forbidden')
  me(@CurrentPrincipal() principal: Principal): Promise<ProfileResponse> {
    return this.users.getProfile(userIdOf(principal));
  }

  @Patch()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Update the signed-in user’s profile',
    description: 'Only the fields sent change; null clears one.',
  })
  @ApiSignedIn()
  @ApiJsonBody(UpdateProfileDto)
  @ApiOkResponse({ type: ProfileResponse })
  @ApiProblems('forbidden')
  update(@CurrentPrincipal() principal: Principal, @Body() body: UpdateProfileDto): Promise<ProfileResponse> {
    return this.users.updateProfile(userIdOf(principal), body);
  }
}
