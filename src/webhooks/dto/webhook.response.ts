import { ApiProperty } from '@nestjs/swagger';
import { WEBHOOK_EVENT_TYPES, WebhookEventType } from '../webhook-event-types';

/** A registered endpoint as the admin API and the command line list it: never with its secret. */
export class WebhookResponse {
  @ApiProperty({ format: 'uuid' })
  readonly id: string;

  @ApiProperty({ example: 'https://hooks.example.com/otp-login' })
  readonly url: string;

  @ApiProperty({ type: [String], enum: WEBHOOK_EVENT_TYPES })
  readonly events: WebhookEventType[];

  @ApiProperty({ format: 'date-time' })
  readonly createdAt: string;
}

export class RegisteredWebhookResponse {
  @ApiProperty({ format: 'uuid' })
  readonly id: string;

  @ApiProperty({ example: 'https://hooks.example.com/otp-login' })
  readonly url: string;

  @ApiProperty({ type: [String], enum: WEBHOOK_EVENT_TYPES })
  readonly events: WebhookEventType[];

  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description: 'The Standard Webhooks signing secret: shown in this response only.',
  })
  readonly secret: string;
}

export class WebhookListResponse {
  @ApiProperty({ type: () => [WebhookResponse] })
  readonly items: WebhookResponse[];
}

/** One attempt to deliver one event. */
export class WebhookDeliveryResponse {
  @ApiProperty({
    description: 'The `webhook-id` header: the same on every attempt of this event.',
    example: 'msg_2b0d…',
  })
  readonly eventId: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES })
  readonly type: string;

  @ApiProperty({ description: '1 for the first attempt.', example: 1 })
  readonly attempt: number;

  @ApiProperty({ type: Number, nullable: true, description: 'The receiver’s HTTP status; null when it gave none.' })
  readonly status: number | null;

  @ApiProperty({ type: String, nullable: true, example: 'HTTP 503' })
  readonly error: string | null;

  @ApiProperty({ format: 'date-time' })
  readonly at: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the next attempt is due; null once delivered or given up.',
  })
  readonly nextAttemptAt: string | null;
}

export class WebhookDeliveryListResponse {
  @ApiProperty({ type: () => [WebhookDeliveryResponse], description: 'Newest first.' })
  readonly items: WebhookDeliveryResponse[];
}
