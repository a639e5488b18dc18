import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min, MaxLength } from 'class-validator';
import { ProblemException } from './problem.exception';

/** `limit` of a paginated list: a whole number from 1 to `max`. */
export function PageLimit(max: number): PropertyDecorator {
  return applyDecorators(
    IsOptional(),
    Transform(({ value }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value)),
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

/** Opaque keyset cursors: the position of the last item, base64url-encoded JSON. */
export function encodeCursor(position: unknown[]): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, shape: ((value: unknown) => boolean)[]): unknown[] | undefined {
  if (cursor === undefined) return undefined;
  try {
    const position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(position) && position.length === shape.length && shape.every((check, i) => check(position[i]))) return position;
  } catch {
    /* reported below */
  }
  throw new ProblemException('validation_failed', 'The cursor is not one this service returned.', { extras: { errors: [{ field: 'cursor', message: 'cursor is malformed' }] } });
}
