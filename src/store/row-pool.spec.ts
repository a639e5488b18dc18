import { RowPool } from './row-pool';

describe('RowPool', () => {
  it('hands a released row out again, zeroed, before taking a new one', () => {
    const sut = new RowPool(16);
    const first = sut.allocate();
    const second = sut.allocate();
    sut.setF64(first, 0, 1.5);
    sut.setU32(first, 8, 7);
    sut.bytes(first, 12, 4).fill(0xff);
    sut.release(first);
    expect(sut.size).toBe(1);
    expect(sut.allocate()).toBe(first);
    expect([sut.getF64(first, 0), sut.getU32(first, 8), [...sut.bytes(first, 12, 4)]]).toEqual([0, 0, [0, 0, 0, 0]]);
    expect(sut.allocate()).toBe(second + 1);
  });

  it('keeps rows apart across pages', () => {
    const sut = new RowPool(12);
    const rows = Array.from({ length: 40_000 }, () => sut.allocate());
    for (const row of rows) {
      sut.setF64(row, 0, row * 1000.5);
      sut.setU32(row, 8, row);
    }
    expect(rows.every((row) => sut.getF64(row, 0) === row * 1000.5 && sut.getU32(row, 8) === row)).toBe(true);
    expect(sut.size).toBe(40_000);
  });
});
