import { findIllFormedText, hasControlCharacters, isStorableJson, jsonDepth, storableText } from './text';

describe('text rules', () => {
  it.each(['a\r\nb', 'a\u0000', 'a\u0085b', 'a\u2028', '\u007f'])('finds control characters in %j', (value) => {
    expect(hasControlCharacters(value)).toBe(true);
  });

  it('escapes control characters for logs and the audit trail', () => {
    expect(storableText('agent\r\nX-Injected: 1\u0085', 512)).toBe('agent\\u000d\\u000aX-Injected: 1\\u0085');
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

  describe('storableText', () => {
    it('escapes first, then cuts, so control characters cannot push it past the column', () => {
      const stored = storableText(`agent${'\t'.repeat(100)}`, 512);
      expect(stored.length).toBeLessThanOrEqual(512);
      expect(stored).toBe(`agent${'\\u0009'.repeat(84)}`);
      expect(storableText('\u0085'.repeat(300), 512)).toBe('\\u0085'.repeat(85));
    });

    it('never cuts inside an escape or a surrogate pair, and replaces a lone surrogate', () => {
      expect(storableText('abc\n', 8)).toBe('abc');
      expect(storableText('ab\ud83d\ude00', 3)).toBe('ab');
      expect(storableText('a\ud800b', 10)).toBe('a\ufffdb');
      expect(storableText('Mozilla/5.0', 512)).toBe('Mozilla/5.0');
    });
  });

  it.each([
    [{ email: 'ada\ud800@example.com' }, 'email'],
    [{ a: { b: ['ok', '\udc00'] } }, 'a.b.1'],
    [{ outer: { ['k\ud800']: 1 } }, 'outer'],
    ['\ud800', ''],
    [{ pair: '\ud83d\ude00', nul: 'a\u0000' }, undefined],
  ])('finds text that is not well-formed Unicode in %j at %j', (value, path) => {
    expect(findIllFormedText(value)).toBe(path);
  });
});
