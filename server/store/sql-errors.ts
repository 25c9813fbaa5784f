/**
 * Recognizes constraint violations across drivers: bun:sqlite throws SQLiteError
 * (code SQLITE_CONSTRAINT_UNIQUE), libSQL throws LibsqlError (extendedCode), and drizzle
 * wraps either in DrizzleQueryError (cause).
 */
export function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const { code, extendedCode } = e as { code?: unknown; extendedCode?: unknown };
    if (code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY") return true;
    if (
      extendedCode === "SQLITE_CONSTRAINT_UNIQUE" ||
      extendedCode === "SQLITE_CONSTRAINT_PRIMARYKEY"
    ) {
      return true;
    }
    if (/UNIQUE constraint failed/.test(e.message)) return true;
  }
  return false;
}
