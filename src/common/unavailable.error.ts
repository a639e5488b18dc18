/**
 * A dependency the request needs cannot serve right now; nothing was done, and the same request
 * may simply be sent again after `retryAfterSeconds`. The layer that notices the outage throws a
 * subclass of its own; the problem-details filter answers every one of them 503.
 */
export class UnavailableError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
