import { ProblemException } from '../../common/problem.exception';

/** One refused part of a registration: `field` as the admin API names it, e.g. `redirect_uris[1]`. */
export interface RegistrationProblem {
  field: string;
  reason: string;
}

/** `400 validation_failed` listing each problem; the command line names its options instead. */
export class InvalidClientRegistration extends ProblemException {
  constructor(readonly problems: RegistrationProblem[]) {
    const messages = problems.map(({ field, reason }) => `${field} ${reason}`);
    super('validation_failed', `The client cannot be registered: ${messages.join('; ')}.`, {
      extras: { errors: problems.map(({ field }, i) => ({ field, message: messages[i] })) },
    });
  }
}
