// CSV as RFC 4180 has it: comma-separated, CRLF between records, a field quoted when it holds a comma, a
// quote, CR or LF, with its quotes doubled. Values are written as they are (no spreadsheet-formula escaping),
// so an export reads back to exactly what the database holds.
const NEEDS_QUOTES = /[",\r\n]/;

/** One field: null and undefined are empty. */
export const csvField = (value: string | null | undefined): string =>
  value === null || value === undefined
    ? ''
    : NEEDS_QUOTES.test(value)
      ? `"${value.replace(/"/g, '""')}"`
      : value;

/** One record, ending with CRLF. */
export const csvRecord = (values: readonly (string | null | undefined)[]): string =>
  values.map(csvField).join(',') + '\r\n';

/** A table's columns: each a header name and how to read it from an item. */
export type CsvColumns<T> = readonly (readonly [string, (item: T) => string | null | undefined])[];

export const csvHeader = <T>(columns: CsvColumns<T>): string => csvRecord(columns.map(([name]) => name));

export const csvRow = <T>(columns: CsvColumns<T>, item: T): string =>
  csvRecord(columns.map(([, read]) => read(item)));

/** The header, then one chunk of records per batch: memory holds one batch, never the whole table. */
export async function* csvChunks<T>(
  columns: CsvColumns<T>,
  batches: AsyncIterable<readonly T[]>,
): AsyncGenerator<string> {
  yield csvHeader(columns);
  for await (const batch of batches) {
    if (batch.length) yield batch.map((item) => csvRow(columns, item)).join('');
  }
}
