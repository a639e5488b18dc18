import { ExpiringCache } from '../common/expiring-cache';
import { ChangeFeed } from '../store/change-feed';
import { User } from './user.entity';

const CHANNEL = 'users-changed';
const MAX_ENTRIES = 50_000;
/** A bound on staleness should an announcement ever be missed without the feed noticing. */
const MAX_AGE_MS = 60_000;

/**
 * Users as last read, per instance, so an authenticated read needs no database round trip.
 * Every change of a user (sign-in, profile update), on any instance, is announced on the change
 * feed and drops that user here; a feed out of sync means no caching and an empty cache once it
 * is back. A read that raced with a change is not kept.
 */
export class ProfileCache {
  private readonly users: ExpiringCache<string, User>;
  /** Counts invalidations: a read that saw one happen meanwhile may hold stale data. */
  private invalidations = 0;

  constructor(
    private readonly feed: ChangeFeed,
    maxEntries = MAX_ENTRIES,
  ) {
    this.users = new ExpiringCache(maxEntries);
    feed.subscribe(
      CHANNEL,
      (userId) => this.forget(userId),
      () => this.forgetAll(),
    );
  }

  async read(userId: string, load: () => Promise<User | null>, now = Date.now()): Promise<User | null> {
    if (!this.feed.inSync) return load();
    const cached = this.users.get(userId, now);
    if (cached) return cached;
    const invalidationsBefore = this.invalidations;
    const user = await load();
    if (user && this.invalidations === invalidationsBefore && this.feed.inSync)
      this.users.set(user.id, user, now + MAX_AGE_MS);
    return user;
  }

  /** After the user's row changed: forgets it here and announces it to every instance. */
  async changed(userId: string): Promise<void> {
    this.forget(userId);
    // An announcement that could not go out leaves other instances stale until their feed's next
    // resync empties their caches (at most 10 s); failing the update for it would be worse.
    await this.feed.publish(CHANNEL, userId).catch(() => undefined);
  }

  private forget(userId: string): void {
    this.invalidations++;
    this.users.delete(userId);
  }

  private forgetAll(): void {
    this.invalidations++;
    this.users.clear();
  }
}
