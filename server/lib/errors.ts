/**
 * An error as it may be logged. drizzle's DrizzleQueryError puts the query's parameters
 * (keys, ciphertext) into its message and stack, so for it only the driver's cause and
 * the SQL text are kept.
 */
export function describeError(err: Error): Record<string, unknown> {
  const query = (err as unknown as { query?: unknown }).query;
  if ("params" in err && typeof query === "string") {
    const cause = err.cause instanceof Error ? err.cause : undefined;
    return {
      name: cause?.name ?? err.name,
      message: cause?.message ?? "database query failed",
      query,
      stack: cause?.stack,
    };
  }
  return {
    name: err.name,
    message: err.message,
    stack: err.stack,
    ...(err.cause instanceof Error ? { cause: describeError(err.cause) } : {}),
  };
}
