import { ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { IsEmailAddress } from '../../common/email';
import { CURSOR_PARTS, CursorPart, IsCursor, IsDateTimeQuery, PageQueryDto } from '../../common/query';
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
  @IsDateTimeQuery('since')
  readonly since?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Events before this time.' })
  @IsOptional()
  @IsDateTimeQuery('until')
  readonly until?: string;
}

/** A page ends at an event id. */
export const AUDIT_CURSOR: CursorPart[] = [CURSOR_PARTS.bigintId];

/** The filters plus `limit` and `cursor`. */
export class AuditQueryDto extends IntersectionType(AuditFilterDto, PageQueryDto) {
  @ApiPropertyOptional({ description: 'The nextCursor of the previous page.' })
  @IsOptional()
  @IsCursor(AUDIT_CURSOR)
  override readonly cursor?: string;
}
