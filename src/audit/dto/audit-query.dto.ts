import { ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsUUID } from 'class-validator';
import { IsEmailAddress } from '../../common/email';
import { PageQueryDto } from '../../common/query';
import { AUDIT_EVENT_TYPES, AuditEventType } from '../audit-event.entity';

export class AuditFilterDto {
  @ApiPropertyOptional({ enum: AUDIT_EVENT_TYPES, enumName: 'AuditEventType' })
  @IsOptional()
  @IsIn(AUDIT_EVENT_TYPES, { message: `type must be one of ${AUDIT_EVENT_TYPES.join(', ')}` })
  readonly type?: AuditEventType;

  @ApiPropertyOptional({ format: 'email' })
  @IsOptional()
  @IsEmailAddress()
  readonly email?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('all', { message: 'userId must be a user id' })
  readonly userId?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Events at or after this time.' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'since must be an ISO-8601 date-time' })
  readonly since?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Events before this time.' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'until must be an ISO-8601 date-time' })
  readonly until?: string;
}

/** The filters plus `limit` and `cursor`. */
export class AuditQueryDto extends IntersectionType(AuditFilterDto, PageQueryDto) {}
