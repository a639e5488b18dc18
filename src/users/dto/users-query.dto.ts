import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { CURSOR_PARTS, CursorPart, IsCursor, PageQueryDto } from '../../common/query';
import { NoControlCharacters } from '../../common/text';

/** A page ends at a user's creation time and id, the keyset's order. */
export const USERS_CURSOR: CursorPart[] = [CURSOR_PARTS.timestamp, CURSOR_PARTS.uuid];

export class UsersQueryDto extends PageQueryDto {
  /** Matches addresses starting with this text, case-insensitively. */
  @ApiPropertyOptional({ maxLength: 254, description: 'Addresses starting with this text, case-insensitively.' })
  @IsOptional()
  @IsString()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @MaxLength(254)
  @NoControlCharacters('email')
  readonly email?: string;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page.' })
  @IsOptional()
  @IsCursor(USERS_CURSOR)
  override readonly cursor?: string;
}
