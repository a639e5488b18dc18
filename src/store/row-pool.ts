const PAGE_SHIFT = 14;
const PAGE_ROWS = 1 << PAGE_SHIFT;
const ROW_MASK = PAGE_ROWS - 1;

/**
 * Fixed-size binary rows, numbered from 0, in pages of 16,384 allocated as they are needed and
 * never copied. Released rows are zeroed and handed out again before a new page is taken, so a
 * million small records cost their bytes rather than a million objects and a growing array.
 */
export class RowPool {
  private readonly pages: Buffer[] = [];
  private readonly views: DataView[] = [];
  private readonly released: number[] = [];
  private issued = 0;

  constructor(private readonly rowBytes: number) {}

  /** Rows in use. */
  get size(): number {
    return this.issued - this.released.length;
  }

  /** A zero-filled row. */
  allocate(): number {
    const reused = this.released.pop();
    if (reused !== undefined) return reused;
    if (this.issued === this.pages.length * PAGE_ROWS) {
      const page = Buffer.alloc(PAGE_ROWS * this.rowBytes);
      this.pages.push(page);
      this.views.push(new DataView(page.buffer, page.byteOffset, page.byteLength));
    }
    return this.issued++;
  }

  release(row: number): void {
    const start = this.offset(row, 0);
    this.pages[row >>> PAGE_SHIFT].fill(0, start, start + this.rowBytes);
    this.released.push(row);
  }

  /** The buffer holding the row, to be addressed with `offset`. */
  page(row: number): Buffer {
    return this.pages[row >>> PAGE_SHIFT];
  }

  /** Where the row's `field` starts in its page. */
  offset(row: number, field: number): number {
    return (row & ROW_MASK) * this.rowBytes + field;
  }

  /** `length` bytes of the row from `field`, as a view onto the row. */
  bytes(row: number, field: number, length: number): Buffer {
    const start = this.offset(row, field);
    return this.pages[row >>> PAGE_SHIFT].subarray(start, start + length);
  }

  getF64(row: number, field: number): number {
    return this.views[row >>> PAGE_SHIFT].getFloat64(this.offset(row, field), true);
  }

  setF64(row: number, field: number, value: number): void {
    this.views[row >>> PAGE_SHIFT].setFloat64(this.offset(row, field), value, true);
  }

  getU32(row: number, field: number): number {
    return this.views[row >>> PAGE_SHIFT].getUint32(this.offset(row, field), true);
  }

  setU32(row: number, field: number, value: number): void {
    this.views[row >>> PAGE_SHIFT].setUint32(this.offset(row, field), value, true);
  }
}
