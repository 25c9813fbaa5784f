import { ParleyError } from "../../protocol/errors.ts";

/**
 * Answers 503 `timeout` when `work` takes longer than `ms`. Used by every JSON API handler
 * (the seed's 5 s API timeout); streaming transfers, the WebSocket and admin operations
 * do not use it. The work itself is not cancelled: its result is dropped.
 */
export async function withDeadline<T>(ms: number, work: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ParleyError("timeout")), ms);
  });
  try {
    return await Promise.race([work(), expired]);
  } finally {
    clearTimeout(timer);
  }
}
