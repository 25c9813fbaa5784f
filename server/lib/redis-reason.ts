/**
 * Turns a Redis client error into a reason fit for the log: its message, with the URL's
 * password masked. Bun's messages do not quote the URL today; this makes sure a password
 * never reaches the log if one ever does.
 */
export function redisErrorReason(url: string): (error: unknown) => string {
  const password = passwordOf(url);
  return (error) => {
    const reason = error instanceof Error ? error.message : String(error);
    return password ? reason.replaceAll(password, "***") : reason;
  };
}

function passwordOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return "";
  }
}
