import { AuditQueryDto } from '../audit/dto/audit-query.dto';
import { ProblemException } from './problem.exception';
import { StrictValidationPipe } from './validation.pipe';

describe('StrictValidationPipe', () => {
  const sut = new StrictValidationPipe();

  async function refusal(
    value: unknown,
    metadata: Parameters<StrictValidationPipe['transform']>[1],
  ): Promise<ProblemException> {
    const error = await sut.transform(value, metadata).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ProblemException);
    return error as ProblemException;
  }

  it.each([
    [
      'a query value checked by a validator that throws on it',
      { email: 'ada\ud800@example.com' },
      { type: 'query', metatype: AuditQueryDto },
      'email',
    ],
    ['an untyped form body', { _csrf: 't', email: '\udc00@example.com' }, { type: 'body', metatype: Object }, 'email'],
    ['a route parameter', 'ab\ud800', { type: 'param', metatype: String, data: 'id' }, 'id'],
    ['a key of a nested body', { profile: { ['k\ud800']: 1 } }, { type: 'body', metatype: Object }, 'profile'],
  ] as const)(
    'refuses a lone surrogate in %s as validation_failed, naming the field',
    async (_title, value, metadata, field) => {
      const error = await refusal(value, metadata);
      expect(error.code).toBe('validation_failed');
      expect(error.options.extras?.errors).toEqual([
        { field, message: `${field} must not contain unpaired surrogates` },
      ]);
    },
  );
});
