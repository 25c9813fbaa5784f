/**
 * A stand-in for a Meilisearch server (none can run here): the part of its REST API the
 * `meilisearch` client calls for the directory search — create an index, update settings,
 * add documents, delete one or a batch, search, get a task. Every request must carry
 * `Authorization: Bearer <key>`. Documents live in memory; a search matches a substring of
 * the searchable attributes (real Meilisearch matches word prefixes, with typos). Writes
 * are applied at once and their tasks are already succeeded when asked for.
 */

type Doc = Record<string, unknown> & { id: string };

interface MockIndex {
  primaryKey: string;
  searchableAttributes: string[];
  documents: Map<string, Doc>;
}

interface MockTask {
  uid: number;
  indexUid: string | null;
  type: string;
  status: "succeeded" | "failed";
  error: { message: string; code: string; type: string; link: string } | null;
  enqueuedAt: string;
}

export interface MeilisearchMock {
  readonly url: string;
  readonly indexes: Map<string, MockIndex>;
  /** Every request seen: method, path and whether its key was right. */
  readonly requests: { method: string; path: string; authorized: boolean }[];
  /** When set, deletions are acknowledged but not applied: an index that lags. */
  lagging: boolean;
  /** The documents of an index (empty when it does not exist). */
  documents(index?: string): Doc[];
  /** Stops answering: the port is closed, so calls fail as when Meilisearch is down. */
  stop(): void;
  /** Listens again on the same port. */
  start(): void;
}

const apiError = (status: number, code: string, message: string, type = "invalid_request") =>
  Response.json(
    { message, code, type, link: `https://docs.meilisearch.com/errors#${code}` },
    { status },
  );

export function meilisearchMock(key: string): MeilisearchMock {
  const indexes = new Map<string, MockIndex>();
  const tasks = new Map<number, MockTask>();
  const requests: MeilisearchMock["requests"] = [];

  function task(indexUid: string | null, type: string, error?: MockTask["error"]): Response {
    const t: MockTask = {
      uid: tasks.size,
      indexUid,
      type,
      status: error ? "failed" : "succeeded",
      error: error ?? null,
      enqueuedAt: new Date().toISOString(),
    };
    tasks.set(t.uid, t);
    return Response.json(
      { taskUid: t.uid, indexUid, status: "enqueued", type, enqueuedAt: t.enqueuedAt },
      { status: 202 },
    );
  }

  // Meilisearch creates a missing index on a document or settings write.
  const indexFor = (uid: string, primaryKey = "id") => {
    let index = indexes.get(uid);
    if (!index) {
      index = { primaryKey, searchableAttributes: ["*"], documents: new Map() };
      indexes.set(uid, index);
    }
    return index;
  };

  function search(index: MockIndex, body: Record<string, unknown>): Response {
    const q = String(body.q ?? "").toLowerCase();
    const limit = typeof body.limit === "number" ? body.limit : 20;
    const fields = body.attributesToRetrieve as string[] | undefined;
    const matches = [...index.documents.values()].filter((doc) =>
      Object.entries(doc).some(
        ([field, value]) =>
          (index.searchableAttributes.includes("*") ||
            index.searchableAttributes.includes(field)) &&
          typeof value === "string" &&
          value.toLowerCase().includes(q),
      ),
    );
    const hits = matches
      .slice(0, limit)
      .map((doc) => (fields ? Object.fromEntries(fields.map((f) => [f, doc[f]])) : doc));
    return Response.json({
      hits,
      query: body.q,
      processingTimeMs: 0,
      limit,
      offset: 0,
      estimatedTotalHits: matches.length,
    });
  }

  async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const auth = req.headers.get("authorization");
    const authorized = auth === `Bearer ${key}`;
    requests.push({ method: req.method, path: url.pathname, authorized });
    if (auth === null)
      return apiError(
        401,
        "missing_authorization_header",
        "The Authorization header is missing.",
        "auth",
      );
    if (!authorized)
      return apiError(403, "invalid_api_key", "The provided API key is invalid.", "auth");
    const body = req.method === "GET" || req.method === "DELETE" ? undefined : await req.json();
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const [head, uid, sub, docId] = parts;

    if (head === "tasks" && uid !== undefined && req.method === "GET") {
      const t = tasks.get(Number(uid));
      return t ? Response.json(t) : apiError(404, "task_not_found", "Task not found.");
    }
    if (head !== "indexes") return apiError(404, "not_found", "Not found.");
    if (uid === undefined && req.method === "POST") {
      const { uid: newUid, primaryKey } = body as { uid: string; primaryKey?: string };
      if (indexes.has(newUid)) {
        return task(newUid, "indexCreation", {
          message: `Index \`${newUid}\` already exists.`,
          code: "index_already_exists",
          type: "invalid_request",
          link: "https://docs.meilisearch.com/errors#index_already_exists",
        });
      }
      indexFor(newUid, primaryKey);
      return task(newUid, "indexCreation");
    }
    if (uid === undefined) return apiError(404, "not_found", "Not found.");
    if (sub === "settings" && req.method === "PATCH") {
      const settings = body as { searchableAttributes?: string[] };
      if (settings.searchableAttributes)
        indexFor(uid).searchableAttributes = settings.searchableAttributes;
      return task(uid, "settingsUpdate");
    }
    if (sub === "documents" && docId === undefined && req.method === "POST") {
      const index = indexFor(uid, url.searchParams.get("primaryKey") ?? "id");
      for (const doc of body as Doc[]) index.documents.set(String(doc[index.primaryKey]), doc);
      return task(uid, "documentAdditionOrUpdate");
    }
    if (sub === "documents" && docId === "delete-batch" && req.method === "POST") {
      if (!mock.lagging) for (const id of body as string[]) indexes.get(uid)?.documents.delete(id);
      return task(uid, "documentDeletion");
    }
    if (sub === "documents" && docId !== undefined && req.method === "DELETE") {
      if (!mock.lagging) indexes.get(uid)?.documents.delete(docId);
      return task(uid, "documentDeletion");
    }
    if (sub === "search" && req.method === "POST") {
      const index = indexes.get(uid);
      if (!index) return apiError(404, "index_not_found", `Index \`${uid}\` not found.`);
      return search(index, body as Record<string, unknown>);
    }
    return apiError(404, "not_found", "Not found.");
  }

  let server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: handle });
  const port = server.port;
  const mock: MeilisearchMock = {
    url: `http://127.0.0.1:${port}`,
    indexes,
    requests,
    lagging: false,
    documents: (index = "users") => [...(indexes.get(index)?.documents.values() ?? [])],
    stop: () => server.stop(true),
    start: () => {
      server = Bun.serve({ port, hostname: "127.0.0.1", fetch: handle });
    },
  };
  return mock;
}
