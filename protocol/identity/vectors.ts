import { toHex } from "../crypto/bytes.ts";
import type { ProtocolContext } from "../crypto/context.ts";
import { encodeDeviceCertificate, issueDeviceCertificate } from "./device-certificate.ts";
import { deviceListHash, encodeDeviceList, nextDeviceList, signDeviceList } from "./device-list.ts";
import type { ConversationId, DeviceId, UserId } from "./ids.ts";
import { generateAccountKey, generateDeviceIdentity } from "./keys.ts";
import { encodeMembershipEntry, type MembershipEntry } from "./membership-entry.ts";
import { appendMembershipEntry, createMembershipLog } from "./membership-log.ts";
import { encodeSignedPrekey, signPrekey } from "./prekey.ts";

/** The seed `protocol/identity/vectors.json` is generated from (with `testContext`). */
export const IDENTITY_VECTOR_SEED = "parley identity vectors v1";

/** Fixed ids used by the frozen vectors. */
export const VECTOR_IDS = {
  alice: "01940000-0000-7000-8000-0000000a11ce" as UserId,
  bob: "01940000-0000-7000-8000-000000000b0b" as UserId,
  laptop: "01940000-0000-7000-8000-00000000d001" as DeviceId,
  phone: "01940000-0000-7000-8000-00000000d002" as DeviceId,
  group: "01940000-0000-7000-8000-00000000c0de" as ConversationId,
} as const;

/**
 * Builds one of each identity structure from a deterministic context and returns their
 * encodings (and chain hashes) as hex, in a fixed order. `vectors.test.ts` compares the
 * result with `vectors.json`, so any change to a wire layout, a signing input or a hash
 * input fails the build; running that test with PARLEY_UPDATE_VECTORS=1 rewrites the file.
 * Ed25519 is deterministic, so noble and native primitives must give the same bytes.
 */
export async function buildIdentityVectors(ctx: ProtocolContext): Promise<Record<string, string>> {
  const t0 = ctx.now();
  const { alice, bob, laptop, phone, group } = VECTOR_IDS;
  const aliceKey = await generateAccountKey(ctx);
  const bobKey = await generateAccountKey(ctx);
  const laptopKeys = await generateDeviceIdentity(ctx);
  const phoneKeys = await generateDeviceIdentity(ctx);
  const out: Record<string, string> = {
    aliceAccountPublicKey: toHex(aliceKey.publicKey),
    bobAccountPublicKey: toHex(bobKey.publicKey),
  };

  const certificate = (deviceId: DeviceId, keys: typeof laptopKeys, createdAt: number) =>
    issueDeviceCertificate(ctx, aliceKey.secretKey, {
      userId: alice,
      deviceId,
      identityKey: keys.identityKey.publicKey,
      signingKey: keys.signingKey.publicKey,
      createdAt,
    });
  const laptopCert = await certificate(laptop, laptopKeys, t0);
  const phoneCert = await certificate(phone, phoneKeys, t0 + 60_000);
  out.laptopCertificate = toHex(encodeDeviceCertificate(laptopCert));
  out.phoneCertificate = toHex(encodeDeviceCertificate(phoneCert));

  const signed = await ctx.prims.x25519.generateKeyPair(ctx.rng);
  const oneTime = await ctx.prims.x25519.generateKeyPair(ctx.rng);
  const pq = await ctx.prims.mlkem1024.generateKeyPair(ctx.rng);
  const prekeys = [
    ["signedPrekey", "signed", 1, signed.publicKey],
    ["oneTimePrekey", "one-time", 7, oneTime.publicKey],
    ["pqLastResortPrekey", "pq-last-resort", 2, pq.publicKey],
  ] as const;
  for (const [name, kind, keyId, publicKey] of prekeys) {
    const prekey = await signPrekey(ctx, aliceKey.secretKey, {
      userId: alice,
      deviceId: laptop,
      kind,
      keyId,
      publicKey,
      createdAt: t0,
    });
    out[name] = toHex(encodeSignedPrekey(prekey));
  }

  const v1 = await signDeviceList(ctx, aliceKey.secretKey, {
    userId: alice,
    version: 1,
    previousHash: new Uint8Array(32),
    devices: [laptopCert],
    issuedAt: t0,
  });
  const v2 = await nextDeviceList(ctx, aliceKey.secretKey, v1, [laptopCert, phoneCert], {
    issuedAt: t0 + 120_000,
  });
  out.deviceListV1 = toHex(encodeDeviceList(v1));
  out.deviceListV1Hash = toHex(await deviceListHash(ctx, v1));
  out.deviceListV2 = toHex(encodeDeviceList(v2));
  out.deviceListV2Hash = toHex(await deviceListHash(ctx, v2));

  const log: MembershipEntry[] = [];
  let step = await createMembershipLog(ctx, aliceKey.secretKey, {
    conversationId: group,
    actor: alice,
    at: t0,
  });
  log.push(step.entry);
  const actions = [
    { type: "add", target: bob, role: "member" },
    { type: "set-info", infoHash: await ctx.prims.sha256(new Uint8Array([1, 2, 3])) },
    { type: "set-role", target: bob, role: "admin" },
    { type: "set-announcements-only", enabled: true },
  ] as const;
  for (const [i, action] of actions.entries()) {
    step = await appendMembershipEntry(
      ctx,
      aliceKey.secretKey,
      step.state,
      alice,
      action,
      t0 + i + 1,
    );
    log.push(step.entry);
  }
  step = await appendMembershipEntry(
    ctx,
    bobKey.secretKey,
    step.state,
    bob,
    { type: "leave" },
    t0 + 9,
  );
  log.push(step.entry);
  for (const entry of log) {
    out[`membershipEntry${entry.epoch}`] = toHex(encodeMembershipEntry(entry));
  }
  out.membershipLatestHash = toHex(step.state.latestHash);
  return out;
}
