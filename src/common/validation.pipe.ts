import { ArgumentMetadata, Injectable, ValidationError, ValidationPipe } from '@nestjs/common';
import { ProblemException } from './problem.exception';
import { findIllFormedText, jsonDepth } from './text';

const MAX_BODY_DEPTH = 32;

/** Whitelisting validation whose failures are `validation_failed` problems listing each field. */
@Injectable()
export class StrictValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      forbidUnknownValues: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) =>
        new ProblemException('validation_failed', 'The request is invalid.', { extras: { errors: flatten(errors) } }),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' || metadata.type === 'query' || metadata.type === 'param') {
      // Before any validator or the database sees it, whatever the handler declared: validators throw on such text.
      const at = findIllFormedText(value);
      if (at !== undefined) {
        const field = [metadata.data, at].filter(Boolean).join('.') || metadata.type;
        throw new ProblemException('validation_failed', 'The request contains text that is not well-formed Unicode.', {
          extras: { errors: [{ field, message: `${field} must not contain unpaired surrogates` }] },
        });
      }
    }
    if (metadata.type === 'body' && metadata.metatype && metadata.metatype !== Object) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new ProblemException('validation_failed', 'The request body must be a JSON object.');
      }
      // class-transformer recurses through the whole body: refuse absurd nesting before it does.
      if (jsonDepth(value) > MAX_BODY_DEPTH) {
        throw new ProblemException(
          'validation_failed',
          `The request body is nested more than ${MAX_BODY_DEPTH} levels deep.`,
        );
      }
    }
    return super.transform(value, metadata);
  }
}

function flatten(errors: ValidationError[], parent = ''): { field: string; message: string }[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}
