import { ApiProperty } from '@nestjs/swagger';

export class LoginTicketResponse {
  @ApiProperty({
    description:
      'Binds the code to the address; send it back with the code. URL-safe, at least 128 bits of randomness.',
    example: 'q3N8b0V2c1Jx6Wm9Zt4Lk7Yp',
  })
  readonly sessionId: string;

  @ApiProperty({ format: 'date-time', description: 'When the newest code stops working.' })
  readonly expiresAt: string;

  @ApiProperty({ format: 'date-time', description: 'The earliest time another code can be sent for this login.' })
  readonly resendAvailableAt: string;

  @ApiProperty({ type: 'integer', example: 6, description: 'Digits in the mailed code (OTP_LENGTH).' })
  readonly codeLength: number;
}
