import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, Matches, MaxLength } from 'class-validator';

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Trimmed and lower-cased; a value with control characters is left as is, to be refused. */
export function normalizeEmail(value: unknown): unknown {
  return typeof value === 'string' && !CONTROL_CHARACTERS.test(value) ? value.trim().toLowerCase() : value;
}

/** An email address as API.md defines it: at most 254 characters, no control characters. */
export function IsEmailAddress(): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }) => normalizeEmail(value)),
    IsString({ message: 'email must be a string' }),
    Matches(/^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$/, { message: 'email must not contain control characters' }),
    MaxLength(254, { message: 'email must be at most 254 characters' }),
    IsEmail({}, { message: 'email must be an email address' }),
  );
}
