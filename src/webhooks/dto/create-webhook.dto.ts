import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsString } from 'class-validator';
import { WEBHOOK_EVENT_TYPES, WebhookEventType } from '../webhook-event-types';

/** The JSON types; the rules (URL, addresses, known events) are the service's, so the command line is held to them too. */
export class CreateWebhookDto {
  @ApiProperty({
    example: 'https://hooks.example.com/otp-login',
    maxLength: 2000,
    description:
      'https (http too outside production); not to loopback, private, link-local or metadata addresses unless WEBHOOK_ALLOW_PRIVATE=true.',
  })
  @IsString()
  readonly url: string;

  @ApiProperty({
    type: [String],
    enum: WEBHOOK_EVENT_TYPES,
    maxItems: 20,
    example: ['user.created', 'session.revoked'],
  })
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  readonly events: WebhookEventType[];
}
