import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/principal';
import { Client, ClientContext } from '../common/client-context';
import { ApiJsonBody, ApiProblems } from '../common/openapi';
import { LoginTicketResponse } from './dto/login-ticket.response';
import { OtpRateLimited } from '../common/rate-limit.decorator';
import { RequestCodeDto, ResendCodeDto } from './dto/otp.dto';
import { OtpService } from './otp.service';

@ApiTags('OTP login')
@Public()
@OtpRateLimited()
@Controller('api/v1/auth/otp')
export class OtpController {
  constructor(private readonly otp: OtpService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Mail a one-time code to an address',
    description:
      'Same answer, shape and timing for unknown and known addresses. Ends every earlier login of the address.',
  })
  @ApiJsonBody(RequestCodeDto)
  @ApiAcceptedResponse({ type: LoginTicketResponse })
  @ApiProblems('otp_resend_too_soon', 'rate_limited', 'mail_unavailable')
  request(@Body() body: RequestCodeDto, @Client() client: ClientContext): Promise<LoginTicketResponse> {
    return this.otp.requestCode(body.email, client);
  }

  @Post('resend')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Mail another code for the same login',
    description:
      'Codes already mailed stay valid until their own expiry (at most OTP_MAX_LIVE_CODES); they share one attempt budget.',
  })
  @ApiJsonBody(ResendCodeDto)
  @ApiAcceptedResponse({ type: LoginTicketResponse })
  @ApiProblems('otp_expired', 'otp_resend_too_soon', 'rate_limited', 'mail_unavailable')
  resend(@Body() body: ResendCodeDto, @Client() client: ClientContext): Promise<LoginTicketResponse> {
    return this.otp.resendCode(body.sessionId, client);
  }
}
