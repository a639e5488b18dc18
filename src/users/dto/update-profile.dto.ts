import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  Validate,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { isStorableJson, NoControlCharacters } from '../../common/text';

const MAX_FORM_DATA_BYTES = 8 * 1024;

@ValidatorConstraint({ name: 'storableFormData' })
class StorableFormData implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return Buffer.byteLength(JSON.stringify(value)) <= MAX_FORM_DATA_BYTES && isStorableJson(value);
  }

  defaultMessage(): string {
    return `lastSubmittedFormData must be at most ${MAX_FORM_DATA_BYTES} bytes of JSON, without NUL characters or unpaired surrogates`;
  }
}

export class UpdateProfileDto {
  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 200, example: 'Ada Lovelace' })
  @IsOptional()
  @IsString()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @MaxLength(200)
  @NoControlCharacters('name')
  readonly name?: string | null;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'Any JSON object, at most 8 KiB.',
  })
  @IsOptional()
  @IsObject()
  @Validate(StorableFormData)
  readonly lastSubmittedFormData?: Record<string, unknown> | null;
}
