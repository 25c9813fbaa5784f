import { accessSync, constants } from "node:fs";
import ipaddr from "ipaddr.js";
import type { Config } from "./schema.ts";

/** URL schemes of a remote libSQL database (sqld, Turso). */
export const REMOTE_DATABASE_SCHEMES = ["libsql:", "http:", "https:"] as const;

/**
 * Checks the rules a single key's type cannot express. `fail(key, detail)` must throw;
 * the first broken rule is reported.
 */
export function checkConfigRules(config: Config, fail: (key: string, detail: string) => never) {
  if (config.host.trim() === "") fail("host", "must not be empty");

  for (const entry of config.trusted_proxies) {
    if (!isIpOrCidr(entry)) {
      fail("trusted_proxies", `'${entry}' is not an IP address or CIDR range`);
    }
  }

  if (config.public_url !== "") {
    const url = URL.parse(config.public_url);
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
      fail("public_url", "must be an http:// or https:// URL");
    }
  }

  const { cert, key } = config.tls;
  if ((cert === "") !== (key === "")) {
    fail(cert === "" ? "tls.cert" : "tls.key", "tls.cert and tls.key must be set together");
  }
  for (const [name, path] of [
    ["tls.cert", cert],
    ["tls.key", key],
  ] as const) {
    if (path === "") continue;
    try {
      accessSync(path, constants.R_OK);
    } catch (err) {
      fail(name, `cannot read '${path}' (${(err as NodeJS.ErrnoException).code})`);
    }
  }

  if (config.database.url !== "") {
    const url = URL.parse(config.database.url);
    if (!url || !(REMOTE_DATABASE_SCHEMES as readonly string[]).includes(url.protocol)) {
      fail(
        "database.url",
        "must be a libsql://, http:// or https:// URL (leave it empty for the embedded database)",
      );
    }
  }
}

/** True for `10.0.0.1`, `::1`, `10.0.0.0/8`, `fd00::/8`. */
export function isIpOrCidr(entry: string): boolean {
  if (entry.includes("/")) {
    try {
      ipaddr.parseCIDR(entry);
      return true;
    } catch {
      return false;
    }
  }
  return ipaddr.isValid(entry);
}
