// Frozen vectors: the encodings of one of each identity structure, from a fixed seed and
// clock. A change to a wire layout, a signing input or a hash input changes these bytes.
// Regenerate deliberately with: PARLEY_UPDATE_VECTORS=1 bun test protocol/identity/vectors.test.ts
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { testContext } from "../../tests/support/deterministic.ts";
import { fromHex } from "../crypto/bytes.ts";
import { nativePrimitives } from "../crypto/native.ts";
import { noblePrimitives } from "../crypto/noble.ts";
import { decodeDeviceCertificate, verifyDeviceCertificate } from "./device-certificate.ts";
import { decodeDeviceList } from "./device-list.ts";
import { verifyDeviceList } from "./device-list-verify.ts";
import { asAccountPublicKey } from "./keys.ts";
import { decodeMembershipEntry } from "./membership-entry.ts";
import { verifyMembershipLog } from "./membership-log.ts";
import { decodeSignedPrekey, verifyPrekey } from "./prekey.ts";
import { buildIdentityVectors, IDENTITY_VECTOR_SEED, VECTOR_IDS } from "./vectors.ts";

const FILE = join(import.meta.dir, "vectors.json");
const native = await nativePrimitives();
if (!native) throw new Error("this runtime's WebCrypto lacks Ed25519/X25519");

describe("identity vectors", () => {
  test("noble primitives reproduce vectors.json byte for byte", async () => {
    const built = await buildIdentityVectors(testContext(IDENTITY_VECTOR_SEED, noblePrimitives));
    if (process.env.PARLEY_UPDATE_VECTORS === "1") {
      writeFileSync(
        FILE,
        `${JSON.stringify({ seed: IDENTITY_VECTOR_SEED, vectors: built }, null, 2)}\n`,
      );
    }
    const frozen = JSON.parse(readFileSync(FILE, "utf8"));
    expect(frozen.seed).toBe(IDENTITY_VECTOR_SEED);
    expect(built).toEqual(frozen.vectors);
  });

  test("native primitives produce the same bytes", async () => {
    const frozen = JSON.parse(readFileSync(FILE, "utf8"));
    const built = await buildIdentityVectors(testContext(IDENTITY_VECTOR_SEED, native));
    expect(built).toEqual(frozen.vectors);
  });

  test("the frozen bytes decode and verify", async () => {
    const v: Record<string, string> = JSON.parse(readFileSync(FILE, "utf8")).vectors;
    const ctx = testContext("verify", native);
    const now = ctx.now() + 1;
    const alice = asAccountPublicKey(fromHex(v.aliceAccountPublicKey!));
    const bob = asAccountPublicKey(fromHex(v.bobAccountPublicKey!));
    const { alice: userId, bob: bobId, laptop, group } = VECTOR_IDS;
    const cert = decodeDeviceCertificate(fromHex(v.laptopCertificate!));
    await verifyDeviceCertificate(ctx, alice, cert, { userId, deviceId: laptop, now });
    for (const [name, kind] of [
      ["signedPrekey", "signed"],
      ["oneTimePrekey", "one-time"],
      ["pqLastResortPrekey", "pq-last-resort"],
    ] as const) {
      const prekey = decodeSignedPrekey(fromHex(v[name]!));
      await verifyPrekey(ctx, alice, prekey, { userId, deviceId: laptop, kind, now });
    }
    const v1 = await verifyDeviceList(ctx, alice, decodeDeviceList(fromHex(v.deviceListV1!)), {
      userId,
      now,
    });
    const v2 = await verifyDeviceList(ctx, alice, decodeDeviceList(fromHex(v.deviceListV2!)), {
      userId,
      now: now + 120_000,
      latestSeen: v1.head,
    });
    expect(Buffer.from(v2.hash).toString("hex")).toBe(v.deviceListV2Hash!);
    const entries = Object.keys(v)
      .filter((k) => k.startsWith("membershipEntry"))
      .map((k) => decodeMembershipEntry(fromHex(v[k]!)));
    const state = await verifyMembershipLog(ctx, entries, {
      conversationId: group,
      accountKeyOf: new Map([
        [userId, alice],
        [bobId, bob],
      ]),
      expectedLatestHash: fromHex(v.membershipLatestHash!),
    });
    expect([...state.members]).toEqual([[userId, "owner"]]);
    expect(state.announcementsOnly).toBe(true);
  });
});
