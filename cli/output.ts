/** Prints rows as an aligned table for people, or JSON for scripts (--json). */
export function printRows(rows: Record<string, unknown>[], columns: string[], json: boolean): void {
  if (json) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  if (rows.length === 0) {
    console.log("(none)");
    return;
  }
  const cell = (v: unknown) =>
    v === null || v === undefined
      ? ""
      : typeof v === "number" && v > 1e12
        ? new Date(v).toISOString().slice(0, 16).replace("T", " ")
        : String(v);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  console.log(columns.map((c, i) => c.toUpperCase().padEnd(widths[i]!)).join("  "));
  for (const r of rows)
    console.log(
      columns
        .map((c, i) => cell(r[c]).padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    );
}

/** Prints one object: key/value lines for people, JSON for scripts. */
export function printObject(value: Record<string, unknown>, json: boolean): void {
  if (json) console.log(JSON.stringify(value, null, 2));
  else for (const [k, v] of Object.entries(value)) console.log(`${k}: ${v}`);
}
