import { Transform } from 'class-transformer';
import { IsObject, IsOptional, IsString, Matches, MaxLength, Validate, ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';

const MAX_FORM_DATA_BYTES = 8 * 1024;

@ValidatorConstraint({ name: 'jsonSize' })
class FitsInFormDataLimit implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return Buffer.byteLength(JSON.stringify(value)) <= MAX_FORM_DATA_BYTES;
  }

  defaultMessage(): string {
    return `lastSubmittedFormData must be at most ${MAX_FORM_DATA_BYTES} bytes of JSON`;
  }
}

export class UpdateProfileDto {
  @IsOptional()
  @IsString()
  @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value))
  @MaxLength(200)
  @Matches(/^[^\u0000-\u001f\u007f]*$/, { message: 'name must not contain control characters' })
  readonly name?: string | null;

  @IsOptional()
  @IsObject()
  @Validate(FitsInFormDataLimit)
  readonly lastSubmittedFormData?: Record<string, unknown> | null;
}
