/** What the server knows about a request in flight, from its first hook to the log line. */
export interface RequestMeta {
  id: string;
  startedAt: number;
  /** The socket peer (a proxy's address when proxied). */
  peer: string | undefined;
  /** The client's address after trusted-proxy resolution. */
  client: string | undefined;
}

const metas = new WeakMap<Request, RequestMeta>();

const INCOMING_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Keeps a well-formed incoming X-Request-Id (a proxy's), else makes one. */
export function requestIdFrom(headers: Headers): string {
  const incoming = headers.get("x-request-id");
  return incoming && INCOMING_ID.test(incoming) ? incoming : crypto.randomUUID();
}

export function setRequestMeta(request: Request, meta: RequestMeta): void {
  metas.set(request, meta);
}

export function requestMeta(request: Request): RequestMeta | undefined {
  return metas.get(request);
}
