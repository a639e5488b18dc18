import { LocalChangeFeed } from '../store/change-feed';
import { ProfileCache } from './profile-cache';
import { User } from './user.entity';

const user = (id: string, name: string): User => ({
  id,
  email: `${id}@example.com`,
  name,
  lastSubmittedFormData: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  lastLoginAt: null,
});

/** A feed whose sync the test controls; announcements reach every subscriber at once. */
class ControlledFeed extends LocalChangeFeed {
  synced = true;
  private resyncs: (() => Promise<void> | void)[] = [];
  override get inSync(): boolean {
    return this.synced;
  }
  override subscribe(
    channel: string,
    onMessage: (message: string) => void,
    onResync: () => Promise<void> | void,
  ): void {
    super.subscribe(channel, onMessage, onResync);
    this.resyncs.push(onResync);
  }
  async resync(): Promise<void> {
    for (const onResync of this.resyncs) await onResync();
  }
}

function counting(rows: Map<string, User>) {
  const loads = { count: 0 };
  return { loads, load: (id: string) => async () => (loads.count++, rows.get(id) ?? null) };
}

describe('ProfileCache', () => {
  it('reads a user once, then answers from memory', async () => {
    const rows = new Map([['u1', user('u1', 'Ada')]]);
    const { loads, load } = counting(rows);
    const cache = new ProfileCache(new LocalChangeFeed());
    expect((await cache.read('u1', load('u1')))?.name).toBe('Ada');
    expect((await cache.read('u1', load('u1')))?.name).toBe('Ada');
    expect(loads.count).toBe(1);
  });

  it('drops a user changed on any instance sharing the feed', async () => {
    const feed = new LocalChangeFeed();
    const [here, there] = [new ProfileCache(feed), new ProfileCache(feed)];
    const rows = new Map([['u1', user('u1', 'Ada')]]);
    const { load } = counting(rows);
    await here.read('u1', load('u1'));
    await there.read('u1', load('u1'));

    rows.set('u1', user('u1', 'Grace'));
    await here.changed('u1');
    expect((await there.read('u1', load('u1')))?.name).toBe('Grace');
    expect((await here.read('u1', load('u1')))?.name).toBe('Grace');
  });

  it('does not keep a read that raced with a change', async () => {
    const feed = new LocalChangeFeed();
    const cache = new ProfileCache(feed);
    const rows = new Map([['u1', user('u1', 'Ada')]]);
    let release!: () => void;
    const slowLoad = () => new Promise<User | null>((resolve) => (release = () => resolve(user('u1', 'Ada'))));
    const reading = cache.read('u1', slowLoad);
    rows.set('u1', user('u1', 'Grace'));
    await feed.publish('users-changed', 'u1');
    release();
    expect((await reading)?.name).toBe('Ada');
    const { load } = counting(rows);
    expect((await cache.read('u1', load('u1')))?.name).toBe('Grace');
  });

  it('goes to the database while the feed is out of sync, and starts empty after a resync', async () => {
    const feed = new ControlledFeed();
    const cache = new ProfileCache(feed);
    const rows = new Map([['u1', user('u1', 'Ada')]]);
    const { loads, load } = counting(rows);
    await cache.read('u1', load('u1'));

    feed.synced = false;
    await cache.read('u1', load('u1'));
    await cache.read('u1', load('u1'));
    expect(loads.count).toBe(3);

    rows.set('u1', user('u1', 'Grace'));
    feed.synced = true;
    await feed.resync();
    expect((await cache.read('u1', load('u1')))?.name).toBe('Grace');
  });

  it('keeps an entry at most a minute, and at most its size in entries', async () => {
    const rows = new Map(['a', 'b', 'c'].map((id) => [id, user(id, id)]));
    const { loads, load } = counting(rows);
    const cache = new ProfileCache(new LocalChangeFeed(), 2);
    for (const id of ['a', 'b', 'c']) await cache.read(id, load(id), 0);
    await cache.read('a', load('a'), 0);
    expect(loads.count).toBe(4);
    await cache.read('c', load('c'), 60_000);
    expect(loads.count).toBe(5);
  });
});
