import { importJWK, type JWK, jwtVerify, SignJWT } from "jose";
import { toBase64Url } from "../../../protocol/api/base64.ts";
import { systemRng } from "../../../protocol/crypto/bytes.ts";
import { noblePrimitives } from "../../../protocol/crypto/noble.ts";
import { ParleyError } from "../../../protocol/errors.ts";
import type { DevicesStore } from "../ports/accounts.ts";
import type { AuthStore } from "../ports/auth.ts";
import type { AuditRepository, DeviceId, UserId } from "../ports.ts";
import { randomToken, sameDigest, sha256Hex } from "./secrets.ts";

/** What a verified access token says, after the device has been checked. */
export interface Principal {
  userId: UserId;
  deviceId: DeviceId;
  isAdmin: boolean;
}

export interface IssuedTokens {
  userId: string;
  deviceId: string;
  accessToken: string;
  accessTokenExpiresAt: number;
  refreshToken: string;
}

const ISSUER = "parley";
/** A WebSocket ticket is spent at once by the client that asked for it. */
export const WS_TICKET_TTL_MS = 30_000;
const JWT_KEY_SECRET = "jwt-ed25519-v1";

/**
 * Access tokens are JWTs signed with EdDSA (Ed25519) under a key all nodes share (stored as a
 * server secret), valid at most 15 minutes; each request also checks the device is still
 * active. Refresh tokens are random, stored hashed, rotate at every use, and a reused one
 * revokes the device's tokens.
 */
export async function tokenService(deps: {
  auth: AuthStore;
  devices: DevicesStore;
  audit: AuditRepository;
  now: () => number;
  accessTtlS: number;
  refreshTtlDays: number;
}) {
  const seed = await deps.auth.secret(JWT_KEY_SECRET, () => systemRng(32), deps.now());
  const pub = (await noblePrimitives.ed25519.generateKeyPair(() => seed)).publicKey;
  const jwk: JWK = { kty: "OKP", crv: "Ed25519", d: toBase64Url(seed), x: toBase64Url(pub) };
  const privateKey = await importJWK(jwk, "EdDSA");
  const publicKey = await importJWK({ kty: "OKP", crv: "Ed25519", x: jwk.x }, "EdDSA");

  const securityEvent = (action: string, userId: UserId | undefined, deviceId: DeviceId) =>
    deps.audit.append({
      at: deps.now(),
      actor: userId ?? "unknown",
      action,
      target: deviceId,
      details: null,
    });

  async function issue(userId: UserId, deviceId: DeviceId): Promise<IssuedTokens> {
    const now = deps.now();
    const exp = Math.floor(now / 1000) + deps.accessTtlS;
    // `iat` has whole seconds; `ims` (issued, ms) lets a revocation cut off exactly the
    // tokens issued before it, so a device that signs in again the same second is not refused.
    const accessToken = await new SignJWT({ did: deviceId, ims: now })
      .setProtectedHeader({ alg: "EdDSA", typ: "JWT" })
      .setIssuer(ISSUER)
      .setSubject(userId)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(exp)
      .setJti(randomToken(12))
      .sign(privateKey);
    const id = crypto.randomUUID();
    const secret = randomToken(32);
    await deps.auth.addRefreshToken({
      id,
      deviceId,
      tokenHash: await sha256Hex(secret),
      now,
      expiresAt: now + deps.refreshTtlDays * 86_400_000,
    });
    return {
      userId,
      deviceId,
      accessToken,
      accessTokenExpiresAt: exp * 1000,
      refreshToken: `${id}.${secret}`,
    };
  }

  /** Checks a bearer token and the device behind it; every failure is a 401 with its code. */
  async function authenticate(token: string): Promise<Principal> {
    let claims: { sub?: string; did?: unknown; ims?: unknown };
    try {
      const verified = await jwtVerify(token, publicKey, {
        issuer: ISSUER,
        algorithms: ["EdDSA"],
        currentDate: new Date(deps.now()),
      });
      claims = verified.payload as typeof claims;
    } catch (err) {
      const expired = (err as { code?: string }).code === "ERR_JWT_EXPIRED";
      throw new ParleyError(expired ? "token_expired" : "invalid_token");
    }
    const device =
      typeof claims.did === "string"
        ? await deps.devices.authInfo(claims.did as DeviceId)
        : undefined;
    if (!device || device.userId !== claims.sub || device.userDeletedAt !== null)
      throw new ParleyError("invalid_token");
    if (device.deviceRevokedAt !== null) throw new ParleyError("device_revoked");
    const issuedAt = typeof claims.ims === "number" ? claims.ims : 0;
    if (device.tokensRevokedAt !== null && issuedAt < device.tokensRevokedAt) {
      throw new ParleyError("invalid_token");
    }
    if (device.userDisabledAt !== null) throw new ParleyError("account_disabled");
    return { userId: device.userId, deviceId: device.deviceId, isAdmin: device.isAdmin };
  }

  /** A device signs in with its secret (when its refresh token is lost or revoked). */
  async function signIn(deviceId: DeviceId, secret: Uint8Array): Promise<IssuedTokens> {
    const device = await deps.devices.authInfo(deviceId);
    const given = await sha256Hex(secret);
    // Hash compared even for unknown devices, so timing does not tell which ids exist.
    const ok =
      sameDigest(given, device?.secretHash || "0".repeat(64)) &&
      device !== undefined &&
      device.secretHash !== "";
    if (!ok || !device) {
      // A wrong secret for a real device is worth an operator's attention; unknown ids are noise.
      if (device) await securityEvent("device.sign_in_failed", device.userId, device.deviceId);
      throw new ParleyError("sign_in_failed");
    }
    if (device.deviceRevokedAt !== null) throw new ParleyError("device_revoked");
    if (device.userDeletedAt !== null) throw new ParleyError("sign_in_failed");
    if (device.userDisabledAt !== null) throw new ParleyError("account_disabled");
    await securityEvent("device.sign_in", device.userId, device.deviceId);
    return issue(device.userId, device.deviceId);
  }

  async function refresh(refreshToken: string): Promise<IssuedTokens> {
    const [id, secret] = refreshToken.split(".");
    if (!id || !secret) throw new ParleyError("refresh_token_invalid");
    const spent = await deps.auth.spendRefreshToken({
      id,
      tokenHash: await sha256Hex(secret),
      now: deps.now(),
    });
    if (spent === "invalid") throw new ParleyError("refresh_token_invalid");
    if (spent.reused) {
      const owner = await deps.devices.authInfo(spent.deviceId);
      await securityEvent("device.refresh_token_reused", owner?.userId, spent.deviceId);
      throw new ParleyError("refresh_token_reused");
    }
    const device = await deps.devices.authInfo(spent.deviceId);
    if (!device || device.deviceRevokedAt !== null || device.userDeletedAt !== null)
      throw new ParleyError("device_revoked");
    if (spent.revoked) throw new ParleyError("refresh_token_invalid");
    if (device.userDisabledAt !== null) throw new ParleyError("account_disabled");
    return issue(device.userId, device.deviceId);
  }

  /** A one-time ticket for the WebSocket upgrade (browsers cannot send headers there). */
  async function wsTicket(principal: Principal): Promise<{ ticket: string; expiresAt: number }> {
    const ticket = randomToken(32);
    const expiresAt = deps.now() + WS_TICKET_TTL_MS;
    await deps.auth.addWsTicket({
      ticketHash: await sha256Hex(ticket),
      deviceId: principal.deviceId,
      expiresAt,
    });
    return { ticket, expiresAt };
  }

  /** Spends a ticket (once) and checks its device as a bearer token would be checked. */
  async function spendWsTicket(ticket: string): Promise<Principal> {
    const deviceId = await deps.auth.spendWsTicket(await sha256Hex(ticket), deps.now());
    const device = deviceId ? await deps.devices.authInfo(deviceId) : undefined;
    if (!device || device.deviceRevokedAt !== null || device.userDeletedAt !== null)
      throw new ParleyError("ticket_invalid");
    if (device.userDisabledAt !== null) throw new ParleyError("account_disabled");
    return { userId: device.userId, deviceId: device.deviceId, isAdmin: device.isAdmin };
  }

  return { issue, authenticate, signIn, refresh, wsTicket, spendWsTicket };
}

export type TokenService = Awaited<ReturnType<typeof tokenService>>;
