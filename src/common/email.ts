import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, MaxLength } from 'class-validator';
import { hasControlCharacters, NoControlCharacters } from './text';

/** Trimmed and lower-cased; a value with control characters is left as is, to be refused. */
export function normalizeEmail(value: unknown): unknown {
  return typeof value === 'string' && !hasControlCharacters(value) ? value.trim().toLowerCase() : value;
}

/** An email address as API.md defines it: at most 254 characters, no control characters. */
export function IsEmailAddress(): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }) => normalizeEmail(value)),
    IsString({ message: 'email must be a string' }),
    NoControlCharacters('email'),
    MaxLength(254, { message: 'email must be at most 254 characters' }),
    IsEmail({}, { message: 'email must be an email address' }),
  );
}
