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

  if (config.registration.mode === "otp" && config.otp.provider === "none") {
    fail(
      "otp.provider",
      'registration.mode = "otp" needs a code provider: twilio, smtp or console',
    );
  }
  if (config.otp.provider === "twilio") {
    for (const key of ["account_sid", "auth_token", "from"] as const) {
      if (config.twilio[key] === "") fail(`twilio.${key}`, "is needed when otp.provider is twilio");
    }
  }
  if (config.otp.provider === "smtp") {
    for (const key of ["host", "from"] as const) {
      if (config.smtp[key] === "") fail(`smtp.${key}`, "is needed when otp.provider is smtp");
    }
  }
  for (const [key, value, schemes] of [
    ["redis.url", config.redis.url, ["redis:", "rediss:"]],
    ["twilio.api_url", config.twilio.api_url, ["https:", "http:"]],
    ["directory.meilisearch_url", config.directory.meilisearch_url, ["https:", "http:"]],
  ] as const) {
    if (value === "") continue;
    const url = URL.parse(value);
    if (!url || !(schemes as readonly string[]).includes(url.protocol))
      fail(key, `must be a ${schemes.join(" or ")} URL`);
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
