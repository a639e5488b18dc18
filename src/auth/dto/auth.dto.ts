import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';

export class RefreshDto {
  @ApiProperty({ maxLength: 200, description: 'The refreshToken from verify or the last refresh.' })
  @IsString()
  @MaxLength(200)
  readonly refreshToken: string;
}

export class IntrospectDto {
  @ApiProperty({ maxLength: 8192, description: 'An access token or a refresh token.' })
  @IsString()
  @MaxLength(8192)
  readonly token: string;

  @ApiPropertyOptional({ enum: ['access_token', 'refresh_token'] })
  @IsOptional()
  @IsIn(['access_token', 'refresh_token'])
  readonly token_type_hint?: 'access_token' | 'refresh_token';
}
