import { Logger } from '@nestjs/common';
import { RedisClient } from './redis-client';

/** However quiet the feed has been, subscribers rebuild their copies this often. */
const RESYNC_EVERY_MS = 10_000;

interface Subscription {
  onMessage: (message: string) => void;
  onResync: () => Promise<void> | void;
}

/**
 * Announcements every instance hears, for what instances keep in memory (revoked sessions,
 * profiles). A subscriber gets each message, and a resync call whenever messages may have been
 * missed (on connecting, after a lost connection, and every 10 s), when it must rebuild or drop
 * its copy. While `inSync` is false a copy may be incomplete and must not be trusted.
 */
export abstract class ChangeFeed {
  abstract readonly inSync: boolean;

  abstract publish(channel: string, message: string): Promise<void>;

  abstract subscribe(channel: string, onMessage: (message: string) => void, onResync: () => Promise<void> | void): void;
}

/** One process: every announcement is heard at once, nothing can be missed. */
export class LocalChangeFeed extends ChangeFeed {
  get inSync(): boolean {
    return true;
  }

  private readonly subscriptions = new Map<string, Subscription[]>();

  async publish(channel: string, message: string): Promise<void> {
    for (const subscription of this.subscriptions.get(channel) ?? []) subscription.onMessage(message);
  }

  subscribe(channel: string, onMessage: (message: string) => void, onResync: () => Promise<void> | void): void {
    this.subscriptions.set(channel, [...(this.subscriptions.get(channel) ?? []), { onMessage, onResync }]);
  }
}

/** Redis pub/sub on a connection of its own; in sync from a confirmed subscription to its loss. */
export class RedisChangeFeed extends ChangeFeed {
  private readonly logger = new Logger('ChangeFeed');
  private readonly subscriptions = new Map<string, Subscription[]>();
  private synced = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly subscriber: RedisClient,
    private readonly keyPrefix: string,
  ) {
    super();
    subscriber.on('message', (channel: string, message: string) => {
      for (const subscription of this.subscriptions.get(channel) ?? []) subscription.onMessage(message);
    });
    subscriber.on('ready', () => void this.resync());
    subscriber.on('close', () => (this.synced = false));
    const timer = setInterval(() => void this.resync(), RESYNC_EVERY_MS).unref();
    subscriber.on('end', () => clearInterval(timer));
  }

  get inSync(): boolean {
    return this.synced && this.subscriber.status === 'ready';
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.redis.publish(this.keyPrefix + channel, message);
  }

  subscribe(channel: string, onMessage: (message: string) => void, onResync: () => Promise<void> | void): void {
    const key = this.keyPrefix + channel;
    this.subscriptions.set(key, [...(this.subscriptions.get(key) ?? []), { onMessage, onResync }]);
    void this.resync();
  }

  /** Subscribes first, then lets every subscriber rebuild: a change between the two is in one or the other. */
  private async resync(): Promise<void> {
    if (this.subscriber.status !== 'ready' || this.subscriptions.size === 0) return;
    try {
      await this.subscriber.subscribe(...this.subscriptions.keys());
      for (const subscriptions of this.subscriptions.values())
        for (const { onResync } of subscriptions) await onResync();
      this.synced = this.subscriber.status === 'ready';
    } catch (error) {
      this.synced = false;
      this.logger.warn(
        `Change feed could not resync (${(error as Error).message}); copies kept in memory are not used until it does`,
      );
    }
  }
}
