import { and, desc, eq, gt, isNull, lt, sql } from "drizzle-orm";
import type {
  AccountWriteError,
  DeviceListRecord,
  NewDeviceRecord,
  PrekeyUploadRecord,
  ProofUse,
} from "../../domain/ports/accounts.ts";
import type { UserId } from "../../domain/ports.ts";
import type { SqlDb } from "../database.ts";
import {
  deviceLists,
  deviceSecrets,
  devices,
  invites,
  oneTimePrekeys,
  otpChallenges,
  pqPrekeys,
  refreshTokens,
  releasedUsernames,
  signedPrekeys,
} from "../schema.ts";
import { isUniqueViolation } from "../sql-errors.ts";

/**
 * Shared pieces of the account-changing transactions (accounts.ts, devices-store.ts). A
 * refused write throws WriteRefusal inside the transaction, which rolls it back; the
 * repository turns it into the error string the domain expects.
 */
export class WriteRefusal extends Error {
  constructor(readonly code: AccountWriteError | "not_found") {
    super(code);
    this.name = "WriteRefusal";
  }
}

const buf = (b: Uint8Array) => Buffer.from(b);

/** Uses an invite or an OTP challenge once, or refuses (used up, revoked, expired). */
export async function consumeProof(tx: SqlDb, proof: ProofUse, now: number): Promise<void> {
  if (proof.kind === "invite") {
    const used = await tx
      .update(invites)
      .set({ uses: sql`${invites.uses} + 1` })
      .where(
        and(
          eq(invites.id, proof.inviteId),
          isNull(invites.revokedAt),
          lt(invites.uses, invites.maxUses),
          gt(invites.expiresAt, now),
        ),
      )
      .returning({ id: invites.id });
    if (used.length === 0) throw new WriteRefusal("proof_used");
  } else if (proof.kind === "otp") {
    // A verified challenge is spent by expiring it.
    const used = await tx
      .update(otpChallenges)
      .set({ expiresAt: 0 })
      .where(and(eq(otpChallenges.id, proof.challengeId), gt(otpChallenges.expiresAt, now)))
      .returning({ verifiedAt: otpChallenges.verifiedAt });
    if (used.length === 0 || used[0]!.verifiedAt === null) throw new WriteRefusal("proof_used");
  }
}

/** A username released by a deleted account stays unavailable for the quarantine. */
export async function usernameQuarantined(
  tx: SqlDb,
  username: string,
  now: number,
  quarantineMs: number,
) {
  const rows = await tx
    .select({ at: releasedUsernames.releasedAt })
    .from(releasedUsernames)
    .where(
      and(
        eq(releasedUsernames.username, username),
        gt(releasedUsernames.releasedAt, now - quarantineMs),
      ),
    );
  return rows.length > 0;
}

/** Inserts a device with its secret, and its prekeys. */
export async function insertDevice(
  tx: SqlDb,
  d: NewDeviceRecord,
  keys: PrekeyUploadRecord,
  now: number,
) {
  try {
    await tx.insert(devices).values({
      id: d.id,
      userId: d.userId,
      identityKey: buf(d.identityKey),
      certificate: buf(d.certificate),
      platform: d.platform,
      createdAt: now,
      lastActiveAt: now,
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new WriteRefusal("device_exists");
    throw err;
  }
  await tx.insert(deviceSecrets).values({
    deviceId: d.id,
    secretHash: d.secretHash,
    nameCiphertext: d.nameCiphertext ? buf(d.nameCiphertext) : null,
  });
  await storePrekeys(tx, d.id, keys, now);
}

/** Stores uploaded prekeys: the signed and last-resort ones replace the old ones. */
export async function storePrekeys(
  tx: SqlDb,
  deviceId: string,
  keys: PrekeyUploadRecord,
  now: number,
) {
  const row = (k: PrekeyUploadRecord["oneTimePrekeys"][number]) => ({
    deviceId,
    keyId: k.keyId,
    publicKey: buf(k.publicKey),
    signature: buf(k.signature),
    encoded: buf(k.encoded),
  });
  try {
    if (keys.signedPrekey) {
      await tx.delete(signedPrekeys).where(eq(signedPrekeys.deviceId, deviceId));
      await tx.insert(signedPrekeys).values({ ...row(keys.signedPrekey), createdAt: now });
    }
    if (keys.oneTimePrekeys.length > 0)
      await tx.insert(oneTimePrekeys).values(keys.oneTimePrekeys.map(row));
    if (keys.pqLastResort) {
      await tx
        .delete(pqPrekeys)
        .where(and(eq(pqPrekeys.deviceId, deviceId), eq(pqPrekeys.lastResort, true)));
      await tx
        .insert(pqPrekeys)
        .values({ ...row(keys.pqLastResort), lastResort: true, createdAt: now });
    }
    if (keys.pqOneTimePrekeys.length > 0) {
      await tx
        .insert(pqPrekeys)
        .values(
          keys.pqOneTimePrekeys.map((k) => ({ ...row(k), lastResort: false, createdAt: now })),
        );
    }
  } catch (err) {
    if (isUniqueViolation(err)) throw new WriteRefusal("device_exists");
    throw err;
  }
}

/** Appends a device-list version after checking it follows the stored newest one. */
export async function appendDeviceList(
  tx: SqlDb,
  userId: UserId,
  list: DeviceListRecord,
  previousHash: Uint8Array | undefined,
  now: number,
) {
  const [latest] = await tx
    .select({ version: deviceLists.version, hash: deviceLists.hash })
    .from(deviceLists)
    .where(eq(deviceLists.userId, userId))
    .orderBy(desc(deviceLists.version))
    .limit(1);
  const expectedVersion = (latest?.version ?? 0) + 1;
  const follows =
    list.version === expectedVersion &&
    (latest === undefined ||
      (previousHash !== undefined && Buffer.from(latest.hash).equals(Buffer.from(previousHash))));
  if (!follows) throw new WriteRefusal("stale_device_list");
  await tx.insert(deviceLists).values({
    userId,
    version: list.version,
    encoded: buf(list.encoded),
    hash: buf(list.hash),
    createdAt: now,
  });
}

/**
 * Cuts a device off: its refresh tokens are marked revoked (kept, so a late refresh is told
 * why) and access tokens issued before `now` stop working.
 */
export async function revokeTokens(tx: SqlDb, deviceId: string, now: number): Promise<void> {
  await tx
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(and(eq(refreshTokens.deviceId, deviceId), isNull(refreshTokens.revokedAt)));
  await tx
    .update(deviceSecrets)
    .set({ tokensRevokedAt: now })
    .where(eq(deviceSecrets.deviceId, deviceId));
}

/** Runs a write, mapping a WriteRefusal to its code. */
export async function refusalOf(
  run: () => Promise<unknown>,
): Promise<AccountWriteError | "not_found" | undefined> {
  try {
    await run();
    return undefined;
  } catch (err) {
    if (err instanceof WriteRefusal) return err.code;
    throw err;
  }
}
