import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../common/query';
import { NoControlCharacters } from '../../common/text';

export class UsersQueryDto extends PageQueryDto {
  /** Matches addresses starting with this text, case-insensitively. */
  @ApiPropertyOptional({ maxLength: 254, description: 'Addresses starting with this text, case-insensitively.' })
  @IsOptional()
  @IsString()
  @Transform(({ value }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @MaxLength(254)
  @NoControlCharacters('email')
  readonly email?: string;
}
