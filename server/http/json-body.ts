import { ParleyError } from "../../protocol/errors.ts";

/**
 * The one body parser of the JSON APIs (the public API and the admin socket). Elysia's own
 * would read a chunked body of any size, accept form and binary bodies on JSON routes and
 * turn a body that is not an object (`"text"`, `1`, `[]`) into `{}`; this one:
 * - answers `415 unsupported_media_type` for a body that is not `application/json`;
 * - reads at most `maxBytes` (`413 payload_too_large` beyond, whatever the framing: a
 *   declared Content-Length over the limit is refused earlier, before any byte is read);
 * - answers `400 malformed_body` for invalid JSON and `400 invalid_request` for JSON that is
 *   not an object.
 * A request without a body parses as `{}`, so a missing required field is named by the
 * route's schema.
 */
export function jsonBodyParser(maxBytes: number) {
  return async ({ request, contentType }: { request: Request; contentType: string }) => {
    if (request.body === null || request.headers.get("content-length") === "0") return {};
    const text = await readCapped(request.body, maxBytes);
    if (text.length === 0) return {};
    const mediaType = contentType.split(";")[0]!.trim().toLowerCase();
    if (mediaType !== "application/json") {
      throw new ParleyError("unsupported_media_type", "Send the body as application/json.");
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new ParleyError("malformed_body", "The request body is not valid JSON.");
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new ParleyError("invalid_request", "The request body must be a JSON object.", {
        field: "body",
      });
    }
    return value as Record<string, unknown>;
  };
}

/** Reads a UTF-8 body, refusing it as soon as it passes `maxBytes`. */
async function readCapped(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of body) {
    length += chunk.length;
    if (length > maxBytes) throw new ParleyError("payload_too_large");
    chunks.push(chunk);
  }
  return new TextDecoder("utf-8", { fatal: false }).decode(Buffer.concat(chunks));
}
