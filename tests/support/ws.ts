import type { ApiClient } from "../../sdk/api-client.ts";

/** A WebSocket test client: opens with a fresh ticket, records frames and the close. */
export async function openSocket(baseUrl: string, api: ApiClient) {
  const { ticket } = await api.request<{ ticket: string }>("POST", "/api/v1/ws/tickets");
  const ws = new WebSocket(
    `${baseUrl.replace(/^http/, "ws")}/api/v1/ws?ticket=${encodeURIComponent(ticket)}`,
  );
  const frames: Record<string, unknown>[] = [];
  const waiters: {
    match: (f: Record<string, unknown>) => boolean;
    resolve: (f: Record<string, unknown>) => void;
  }[] = [];
  let closed: { code: number; reason: string } | undefined;
  const closedPromise = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.addEventListener("close", (e) => {
      closed = { code: e.code, reason: e.reason };
      resolve(closed);
    });
  });
  ws.addEventListener("message", (e) => {
    const frame = JSON.parse(String(e.data)) as Record<string, unknown>;
    frames.push(frame);
    for (const w of waiters.splice(0)) {
      if (w.match(frame)) w.resolve(frame);
      else waiters.push(w);
    }
  });
  const next = (type: string, timeoutMs = 5_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const seen = frames.find((f) => f.type === type);
      if (seen) return resolve(seen);
      const timer = setTimeout(
        () =>
          reject(
            new Error(`no '${type}' frame within ${timeoutMs} ms; got ${JSON.stringify(frames)}`),
          ),
        timeoutMs,
      );
      waiters.push({
        match: (f) => f.type === type,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  await next("ready");
  return {
    ws,
    ticket,
    frames,
    next,
    closed: () => closedPromise,
    get closeInfo() {
      return closed;
    },
  };
}
