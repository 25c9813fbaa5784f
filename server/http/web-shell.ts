import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { Elysia } from "elysia";
import { ParleyError } from "../../protocol/errors.ts";

interface WebFile {
  path: string;
  etag: string;
  cacheControl: string;
}

/** Vite puts content-hashed bundles here: cache them forever. */
const IMMUTABLE_PREFIX = "/assets/";
/** Files whose name must stay stable and must be revalidated at every visit. */
const REVALIDATE = new Set(["/index.html", "/sw.js", "/manifest.webmanifest"]);

function cacheControlFor(urlPath: string): string {
  if (urlPath.startsWith(IMMUTABLE_PREFIX)) return "public, max-age=31536000, immutable";
  if (REVALIDATE.has(urlPath)) return "no-cache";
  return "public, max-age=3600";
}

/** Indexes the built web client once at start: only files listed here are ever served. */
export function indexWebFiles(dir: string): Map<string, WebFile> {
  const files = new Map<string, WebFile>();
  if (!existsSync(join(dir, "index.html"))) return files;
  for (const rel of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, rel);
    if (!statSync(path).isFile()) continue;
    const urlPath = `/${rel.split("\\").join("/")}`;
    const etag = `"${Bun.hash(readFileSync(path)).toString(16)}"`;
    files.set(urlPath, { path, etag, cacheControl: cacheControlFor(urlPath) });
  }
  return files;
}

/**
 * Serves the embedded web client: its files with content types, ETags and cache headers,
 * and index.html for any other non-API path (the client routes in the browser). An
 * unknown /api/ path is a JSON 404; a missing file with an extension is a plain 404, so a
 * stale script URL never receives HTML.
 */
export function webShell(files: Map<string, WebFile>) {
  const index = files.get("/index.html");
  return new Elysia({ name: "web-shell" }).get(
    "/*",
    ({ path, request, set }) => {
      if (path === "/api" || path.startsWith("/api/")) {
        throw new ParleyError("not_found");
      }
      let urlPath: string;
      try {
        urlPath = decodeURIComponent(path);
      } catch {
        throw new ParleyError("invalid_request", "The path is not valid.");
      }
      let file = files.get(urlPath);
      if (!file) {
        if (extname(urlPath) !== "") {
          set.status = 404;
          set.headers["content-type"] = "text/plain; charset=utf-8";
          return "Not found";
        }
        if (!index) throw new ParleyError("web_client_missing");
        file = index;
      }
      set.headers.etag = file.etag;
      set.headers["cache-control"] = file.cacheControl;
      if (request.headers.get("if-none-match") === file.etag) {
        set.status = 304;
        return "";
      }
      return Bun.file(file.path);
    },
    { detail: { hide: true } },
  );
}
