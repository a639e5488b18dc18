import { ExpiringCache } from './expiring-cache';

describe('ExpiringCache', () => {
  it('answers until the entry ends, not a millisecond longer', () => {
    const cache = new ExpiringCache<string, string>(10);
    cache.set('a', 'A', 1_000);
    expect(cache.get('a', 999)).toBe('A');
    expect(cache.get('a', 1_000)).toBeUndefined();
    expect(cache.get('a', 999)).toBeUndefined();
  });

  it('knows only the exact key it was given', () => {
    const cache = new ExpiringCache<string, string>(10);
    cache.set('token-a', 'A', 1_000);
    expect(cache.get('token-a ', 0)).toBeUndefined();
    expect(cache.get('token-A', 0)).toBeUndefined();
  });

  it('forgets the entry stored longest ago beyond its size; storing again makes an entry new', () => {
    const cache = new ExpiringCache<string, string>(2);
    cache.set('a', 'A', 1_000);
    cache.set('b', 'B', 1_000);
    cache.set('a', 'A2', 1_000);
    cache.set('c', 'C', 1_000);
    expect(cache.get('b', 0)).toBeUndefined();
    expect(cache.get('a', 0)).toBe('A2');
    expect(cache.get('c', 0)).toBe('C');
  });

  it('deletes one entry or all', () => {
    const cache = new ExpiringCache<string, string>(10);
    cache.set('a', 'A', 1_000);
    cache.set('b', 'B', 1_000);
    cache.delete('a');
    expect(cache.get('a', 0)).toBeUndefined();
    cache.clear();
    expect(cache.get('b', 0)).toBeUndefined();
  });
});
