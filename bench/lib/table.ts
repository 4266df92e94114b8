type Cell = string | number | boolean | null | undefined;

/** Prints rows as an aligned text table under a title. */
export function printTable(title: string, rows: readonly Record<string, Cell>[]): void {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const text = (cell: Cell) => (cell === undefined || cell === null ? '' : String(cell));
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => text(row[column]).length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] as number)).join('  ').trimEnd();
  const lines = [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map((row) => line(columns.map((c) => text(row[c]))))];
  process.stdout.write(`\n${title}\n${lines.join('\n')}\n`);
}
