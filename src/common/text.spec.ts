import { escapeControlCharacters, hasControlCharacters, isStorableJson, jsonDepth } from './text';

describe('text rules', () => {
  it.each(['a\r\nb', 'a\u0000', 'a\u0085b', 'a\u2028', '\u007f'])('finds control characters in %j', (value) => {
    expect(hasControlCharacters(value)).toBe(true);
  });

  it('escapes control characters for logs and the audit trail', () => {
    expect(escapeControlCharacters('agent\r\nX-Injected: 1\u0085')).toBe('agent\\u000d\\u000aX-Injected: 1\\u0085');
  });

  it('measures nesting without recursing, however deep', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(jsonDepth(deep)).toBe(100_000);
    expect(jsonDepth({ a: { b: [1, { c: 2 }] } })).toBe(4);
    expect(jsonDepth('flat')).toBe(0);
  });

  it.each([
    [{ note: 'a\u0000b' }, false],
    [{ 'k\u0000': 1 }, false],
    [{ lone: '\ud800' }, false],
    [{ pair: '\ud83d\ude00', nested: [{ ok: 'fine' }] }, true],
  ])('says whether %j can be stored in jsonb', (value, storable) => {
    expect(isStorableJson(value)).toBe(storable);
  });
});
