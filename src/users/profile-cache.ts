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
  private readonly users = new Map<string, { user: User; cachedAt: number }>();
  /** Counts invalidations: a read that saw one happen meanwhile may hold stale data. */
  private invalidations = 0;

  constructor(
    private readonly feed: ChangeFeed,
    private readonly maxEntries = MAX_ENTRIES,
  ) {
    feed.subscribe(CHANNEL, (userId) => this.forget(userId), () => this.forgetAll());
  }

  async read(userId: string, load: () => Promise<User | null>, now = Date.now()): Promise<User | null> {
    if (!this.feed.inSync) return load();
    const cached = this.users.get(userId);
    if (cached && now - cached.cachedAt < MAX_AGE_MS) return cached.user;
    const invalidationsBefore = this.invalidations;
    const user = await load();
    if (user && this.invalidations === invalidationsBefore && this.feed.inSync) this.remember(user, now);
    return user;
  }

  /** After the user's row changed: forgets it here and announces it to every instance. */
  async changed(userId: string): Promise<void> {
    this.forget(userId);
    // A lost announcement is covered: the feed is out of sync, and its resync empties every cache.
    await this.feed.publish(CHANNEL, userId).catch(() => undefined);
  }

  private remember(user: User, now: number): void {
    this.users.delete(user.id);
    if (this.users.size >= this.maxEntries) this.users.delete(this.users.keys().next().value!);
    this.users.set(user.id, { user, cachedAt: now });
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
