import { ApiProperty } from '@nestjs/swagger';

export class UserResponse {
  @ApiProperty({ format: 'uuid' })
  readonly id: string;

  @ApiProperty({ format: 'email', example: 'ada@example.com' })
  readonly email: string;

  @ApiProperty({ type: String, nullable: true, example: 'Ada Lovelace' })
  readonly name: string | null;

  @ApiProperty({ format: 'date-time' })
  readonly createdAt: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  readonly lastLoginAt: string | null;
}

export class ProfileResponse extends UserResponse {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'The JSON object last saved with PATCH /api/v1/users/me.',
  })
  readonly lastSubmittedFormData: Record<string, unknown> | null;
}

export class UserPageResponse {
  @ApiProperty({ type: () => [UserResponse] })
  readonly items: UserResponse[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next page; null on the last page.',
  })
  readonly nextCursor: string | null;
}
