import { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * An entity's table and columns as its own TypeORM mapping declares them, for a statement written
 * once and run many times: the column list and the parameter placeholders are text built once,
 * and each run only converts one row's values the way the driver stores them.
 */
type ColumnMetadata = ReturnType<DataSource['getMetadata']>['columns'][number];

export class RowMapping<T extends ObjectLiteral> {
  readonly table: string;
  private readonly columns: ColumnMetadata[];

  constructor(
    private readonly dataSource: DataSource,
    target: EntityTarget<T>,
  ) {
    const metadata = dataSource.getMetadata(target);
    this.table = `"${metadata.tableName}"`;
    this.columns = metadata.columns.filter((column) => !column.isGenerated);
  }

  column(property: keyof T & string): string {
    return `"${this.columns.find((column) => column.propertyName === property)!.databaseName}"`;
  }

  /** `("a", "b", …)`: every column a row writes. */
  get columnList(): string {
    return `(${this.columns.map((column) => `"${column.databaseName}"`).join(', ')})`;
  }

  /** `($n, $n+1, …)` from parameter `first` on; the properties in `sql` are that SQL instead of a parameter. */
  placeholders(first: number, sql: Partial<Record<keyof T & string, string>> = {}): string {
    let next = first;
    const items = this.columns.map((column) => sql[column.propertyName as keyof T & string] ?? `$${next++}`);
    return `(${items.join(', ')})`;
  }

  /** How many parameters `placeholders` uses. */
  parameterCount(sql: Partial<Record<keyof T & string, string>> = {}): number {
    return this.columns.filter((column) => sql[column.propertyName as keyof T & string] === undefined).length;
  }

  /** The row's values for `placeholders`, in order, as the driver stores them. */
  values(row: Partial<T>, sql: Partial<Record<keyof T & string, string>> = {}): unknown[] {
    return this.columns
      .filter((column) => sql[column.propertyName as keyof T & string] === undefined)
      .map((column): unknown =>
        this.dataSource.driver.preparePersistentValue(column.getEntityValue(row) ?? null, column),
      );
  }
}
