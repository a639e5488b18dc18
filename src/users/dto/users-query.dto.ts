import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { PageLimit } from '../../common/query';
import { NoControlCharacters } from '../../common/text';

export class UsersQueryDto {
  /** Matches addresses starting with this text, case-insensitively. */
  @ApiPropertyOptional({ maxLength: 254, description: 'Addresses starting with this text, case-insensitively.' })
  @IsOptional()
  @IsString()
  @Transform(({ value }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @MaxLength(254)
  @NoControlCharacters('email')
  readonly email?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 500, default: 50 })
  @PageLimit(500)
  readonly limit?: number;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page.' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  readonly cursor?: string;
}
