import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, isISO8601, IsOptional, IsString, isUUID, Max, Min, MaxLength, ValidateBy } from 'class-validator';
import { ProblemException } from './problem.exception';

const MAX_BIGINT = 9223372036854775807n;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** `limit` of a paginated list: a whole number from 1 to `max`. */
export function PageLimit(max: number): PropertyDecorator {
  return applyDecorators(
    IsOptional(),
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value,
    ),
    IsInt({ message: `limit must be a whole number from 1 to ${max}` }),
    Min(1),
    Max(max),
  );
}

/** `limit` and `cursor` of the admin lists (1..500, default 50). */
export class PageQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 500, default: 50 })
  @PageLimit(500)
  readonly limit?: number;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page.' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  readonly cursor?: string;
}

/**
 * A moment both databases store and compare as one: PostgreSQL refuses years past its range,
 * SQLite keeps dates as text, which sorts right only for four-digit years, and an ISO-8601 form
 * JavaScript cannot read (`-9999-01-01`, week dates) is an Invalid Date with no year at all.
 */
export function isStorableDate(date: Date): boolean {
  const year = date.getUTCFullYear();
  return year >= 1970 && year <= 9999;
}

/** An ISO-8601 date-time query value (`since`, `until`) that is a real moment from 1970 to 9999. */
export function IsDateTimeQuery(field: string): PropertyDecorator {
  const isDateTime = (value: unknown) =>
    typeof value === 'string' &&
    isISO8601(value, { strict: true, strictSeparator: true }) &&
    isStorableDate(new Date(value));
  return ValidateBy(
    { name: 'isDateTimeQuery', validator: { validate: isDateTime } },
    { message: `${field} must be an ISO-8601 date-time from 1970 to 9999` },
  );
}

/** One element of a keyset position; each is checked before it reaches a query. */
export type CursorPart = (value: unknown) => boolean;

export const CURSOR_PARTS = {
  /** A bigint primary key, as the decimal string the drivers return. */
  bigintId: (value: unknown) => typeof value === 'string' && /^\d{1,19}$/.test(value) && BigInt(value) <= MAX_BIGINT,
  uuid: (value: unknown) => typeof value === 'string' && isUUID(value, 'all'),
  /** A timestamp as `toISOString()` wrote it. */
  timestamp: (value: unknown) =>
    typeof value === 'string' &&
    ISO_TIMESTAMP.test(value) &&
    isStorableDate(new Date(value)) &&
    new Date(value).toISOString() === value,
} satisfies Record<string, CursorPart>;

/** Opaque keyset cursors: the position of the last item, base64url-encoded JSON. */
export function encodeCursor(position: unknown[]): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, shape: CursorPart[]): unknown[] | undefined {
  if (cursor === undefined) return undefined;
  const position = parseCursor(cursor, shape);
  if (position) return position;
  throw new ProblemException('validation_failed', 'The cursor is not one this service returned.', {
    extras: { errors: [{ field: 'cursor', message: 'cursor is malformed' }] },
  });
}

/** The `cursor` query value of a list whose positions have this shape. */
export function IsCursor(shape: CursorPart[]): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isCursor',
      validator: { validate: (value) => typeof value === 'string' && parseCursor(value, shape) !== undefined },
    },
    { message: 'cursor is malformed' },
  );
}

function parseCursor(cursor: string, shape: CursorPart[]): unknown[] | undefined {
  try {
    const position: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(position) && position.length === shape.length && shape.every((check, i) => check(position[i])))
      return position as unknown[];
  } catch {
    /* not JSON */
  }
  return undefined;
}
