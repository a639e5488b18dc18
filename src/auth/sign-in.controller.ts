import { Body, Controller, Header, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Client, ClientContext } from '../common/client-context';
import { ApiJsonBody, ApiProblems } from '../common/openapi';
import { Public } from '../common/principal';
import { OtpRateLimited } from '../common/rate-limit.decorator';
import { VerifyCodeDto } from '../otp/dto/otp.dto';
import { SignedInResponse } from './dto/auth.responses';
import { SignInService } from './sign-in.service';

@ApiTags('OTP login')
@Public()
@OtpRateLimited()
@Controller('api/v1/auth/otp')
export class SignInController {
  constructor(private readonly signIn: SignInService) {}

  @Post('verify')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Exchange a code for tokens',
    description: 'Creates the user on the first successful verification. A login succeeds at most once.',
  })
  @ApiJsonBody(VerifyCodeDto)
  @ApiOkResponse({ type: SignedInResponse })
  @ApiProblems('otp_invalid', 'otp_expired', 'rate_limited')
  verify(@Body() body: VerifyCodeDto, @Client() client: ClientContext): Promise<SignedInResponse> {
    return this.signIn.withCode(body.sessionId, body.code, client);
  }
}
