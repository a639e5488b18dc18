import { formatRanges, idsIn, LATE_COMMIT_MS, nextWaiting, parseRanges, WaitingRange } from './audit-chain';

describe('audit chain rounds', () => {
  it('writes ascending ids as ranges and reads them back', () => {
    const ids = [1, 2, 3, 5, 7, 8, 12];
    expect(formatRanges(ids)).toBe('1-3,5,7-8,12');
    expect([...idsIn(parseRanges(formatRanges(ids)))]).toEqual(ids);
    expect(parseRanges('')).toEqual([]);
  });

  describe('the ids a round waits for', () => {
    const now = 1_000_000;

    it('are the ids skipped below the new horizon, since now', () => {
      expect(nextWaiting(10, [], [11, 12, 15, 18], now)).toEqual({
        horizon: 18,
        waiting: [
          [13, 14, now],
          [16, 17, now],
        ],
      });
    });

    it('lose the late commits a round found, and keep when the rest were first missed', () => {
      const waiting: WaitingRange[] = [[13, 17, now - 5000]];
      expect(nextWaiting(18, waiting, [14, 16, 19], now)).toEqual({
        horizon: 19,
        waiting: [
          [13, 13, now - 5000],
          [15, 15, now - 5000],
          [17, 17, now - 5000],
        ],
      });
    });

    it('are given up once missed for longer than a late commit can take', () => {
      const waiting: WaitingRange[] = [
        [3, 3, now - LATE_COMMIT_MS - 1],
        [5, 6, now - LATE_COMMIT_MS],
      ];
      expect(nextWaiting(10, waiting, [11], now).waiting).toEqual([[5, 6, now - LATE_COMMIT_MS]]);
    });

    it('keep the horizon when only late commits were found', () => {
      expect(nextWaiting(10, [[4, 4, now]], [4], now)).toEqual({ horizon: 10, waiting: [] });
    });
  });
});
