import { Body, Controller, Header, HttpCode, Post } from '@nestjs/common';
import { Public } from '../auth/principal';
import { Client, ClientContext } from '../common/client-context';
import { OtpRateLimited } from '../rate-limit/rate-limit.decorator';
import { RequestCodeDto, ResendCodeDto, VerifyCodeDto } from './dto/otp.dto';
import { SignedIn } from '../auth/tokens.service';
import { LoginTicket, OtpService } from './otp.service';

@Public()
@OtpRateLimited()
@Controller('api/v1/auth/otp')
export class OtpController {
  constructor(private readonly otp: OtpService) {}

  @Post()
  @HttpCode(202)
  request(@Body() body: RequestCodeDto, @Client() client: ClientContext): Promise<LoginTicket> {
    return this.otp.requestCode(body.email, client);
  }

  @Post('resend')
  @HttpCode(202)
  resend(@Body() body: ResendCodeDto, @Client() client: ClientContext): Promise<LoginTicket> {
    return this.otp.resendCode(body.sessionId, client);
  }

  @Post('verify')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  verify(@Body() body: VerifyCodeDto, @Client() client: ClientContext): Promise<SignedIn> {
    return this.otp.verifyCode(body.sessionId, body.code, client);
  }
}
