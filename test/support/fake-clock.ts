import { Clock } from '../../src/common/clock';

/** A clock that moves only when a test moves it. */
export class FakeClock extends Clock {
  constructor(public current = Date.UTC(2026, 0, 1)) {
    super();
  }

  now(): number {
    return this.current;
  }

  advance(seconds: number): void {
    this.current += seconds * 1000;
  }
}
