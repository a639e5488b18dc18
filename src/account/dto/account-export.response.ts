import { ApiProperty } from '@nestjs/swagger';
import { AuditEventResponse } from '../../audit/dto/audit-event.response';
import { ProfileResponse } from '../../users/dto/user.response';

export class ExportedSessionResponse {
  @ApiProperty({ format: 'uuid' })
  readonly id: string;

  @ApiProperty({ format: 'date-time' })
  readonly createdAt: string;

  @ApiProperty({ format: 'date-time' })
  readonly lastUsedAt: string;

  @ApiProperty({ format: 'date-time' })
  readonly expiresAt: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  readonly revokedAt: string | null;

  @ApiProperty()
  readonly ip: string;

  @ApiProperty({ type: String, nullable: true })
  readonly userAgent: string | null;
}

export class AccountExportResponse {
  @ApiProperty({ format: 'date-time' })
  readonly exportedAt: string;

  @ApiProperty({ type: () => ProfileResponse })
  readonly user: ProfileResponse;

  @ApiProperty({ type: () => [ExportedSessionResponse], description: 'Every session still on record, live or ended.' })
  readonly sessions: ExportedSessionResponse[];

  @ApiProperty({ type: () => [AuditEventResponse], description: 'The user’s own audit events, oldest first.' })
  readonly auditEvents: AuditEventResponse[];
}
