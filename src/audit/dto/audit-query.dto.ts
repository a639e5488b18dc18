import { IsIn, IsISO8601, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { IsEmailAddress } from '../../common/email';
import { PageLimit } from '../../common/query';
import { AUDIT_EVENT_TYPES, AuditEventType } from '../audit-event.entity';

export class AuditFilterDto {
  @IsOptional()
  @IsIn(AUDIT_EVENT_TYPES, { message: `type must be one of ${AUDIT_EVENT_TYPES.join(', ')}` })
  readonly type?: AuditEventType;

  @IsOptional()
  @IsEmailAddress()
  readonly email?: string;

  @IsOptional()
  @IsUUID('all', { message: 'userId must be a user id' })
  readonly userId?: string;

  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'since must be an ISO-8601 date-time' })
  readonly since?: string;

  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'until must be an ISO-8601 date-time' })
  readonly until?: string;
}

export class AuditQueryDto extends AuditFilterDto {
  @PageLimit(500)
  readonly limit?: number;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  readonly cursor?: string;
}
