import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';

export class RefreshDto {
  @IsString()
  @MaxLength(200)
  readonly refreshToken: string;
}

export class IntrospectDto {
  @IsString()
  @MaxLength(8192)
  readonly token: string;

  @IsOptional()
  @IsIn(['access_token', 'refresh_token'])
  readonly token_type_hint?: 'access_token' | 'refresh_token';
}
