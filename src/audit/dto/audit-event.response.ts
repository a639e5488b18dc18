import { ApiProperty } from '@nestjs/swagger';
import { AUDIT_EVENT_TYPES } from '../audit-event.entity';

export class AuditEventResponse {
  @ApiProperty({ description: 'Increasing with time.' })
  readonly id: string;

  @ApiProperty({ enum: AUDIT_EVENT_TYPES, enumName: 'AuditEventType' })
  readonly type: string;

  @ApiProperty({ format: 'date-time' })
  readonly at: string;

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  readonly userId: string | null;

  @ApiProperty({ type: String, format: 'email', nullable: true })
  readonly email: string | null;

  @ApiProperty({ type: String, nullable: true })
  readonly ip: string | null;

  @ApiProperty({ type: String, nullable: true })
  readonly userAgent: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The sign-in session (the token’s `sid`); a code login’s id is `details.loginId`.',
  })
  readonly sessionId: string | null;

  @ApiProperty({ type: String, nullable: true })
  readonly requestId: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true })
  readonly details: Record<string, unknown>;
}

export class AuditPageResponse {
  @ApiProperty({ type: () => [AuditEventResponse], description: 'Newest first.' })
  readonly items: AuditEventResponse[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next page; null on the last page.',
  })
  readonly nextCursor: string | null;
}
