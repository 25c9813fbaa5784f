import { describe, expect, test } from "bun:test";
import { testContext } from "../../tests/support/deterministic.ts";
import { createParty, type Party } from "../../tests/support/parties.ts";
import { fromUtf8, utf8 } from "../crypto/bytes.ts";
import type { ProtocolContext } from "../crypto/context.ts";
import { nativePrimitives } from "../crypto/native.ts";
import { ParleyError } from "../errors.ts";
import type { ConversationId, DeviceId, UserId } from "../identity/ids.ts";
import { initiateSession } from "../session/cipher.ts";
import { openKeyHeader, sealKeyHeader } from "./key-header.ts";
import {
  closeAllVersions,
  createSenderKey,
  distributionOf,
  emptySenderKeyRecord,
  encryptWithSenderKey,
  groupKeyNeedsRotation,
  installDistribution,
  type OwnSenderKey,
  SENDER_KEY_GRACE_MS,
  SENDER_KEY_MAX_FORWARD_JUMP,
  type SenderKeyRecord,
} from "./sender-key.ts";
import { decryptManyWithSenderKey, decryptWithSenderKey } from "./sender-key-decrypt.ts";
import {
  decodeOwnSenderKey,
  decodeSenderKeyRecord,
  encodeOwnSenderKey,
  encodeSenderKeyRecord,
} from "./sender-key-records.ts";
import { decodeSenderKeyMessage, encodeSenderKeyMessageUnsigned } from "./sender-key-wire.ts";

const native = (await nativePrimitives())!;
const uuid = (n: number) => `0190a0b0-0000-7000-8000-${n.toString(16).padStart(12, "0")}`;
const CONV = uuid(1) as ConversationId;
const OTHER_CONV = uuid(2) as ConversationId;
const ALICE = uuid(10) as UserId;
const ALICE_PHONE = uuid(11) as DeviceId;
const BOB = uuid(20) as UserId;
const BOB_LAPTOP = uuid(21) as DeviceId;
let messageSerial = 100;
const nextMessageId = () => uuid(messageSerial++);

async function aliceKey(
  ctx: ProtocolContext,
  previousVersion = 0,
  membershipEpoch = 3,
): Promise<OwnSenderKey> {
  return createSenderKey(ctx, {
    conversationId: CONV,
    senderUserId: ALICE,
    senderDeviceId: ALICE_PHONE,
    previousVersion,
    membershipEpoch,
    membershipLogHash: new Uint8Array(32).fill(9),
    deviceListVersion: 4,
  });
}

function envelope(
  body: Uint8Array,
  overrides: Partial<{
    conversationId: string;
    senderUserId: string;
    senderDeviceId: string;
    serverTime: number;
  }> = {},
) {
  const m = decodeSenderKeyMessage(body);
  return {
    conversationId: m.conversationId,
    senderUserId: m.senderUserId,
    senderDeviceId: m.senderDeviceId,
    clientMessageId: m.clientMessageId,
    serverTime: 0,
    ...overrides,
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => "ok",
    (e) => (e instanceof ParleyError ? e.code : `not a ParleyError: ${e}`),
  );
}

describe("sender keys", () => {
  test("messages decrypt in order, out of order, and a replay is a duplicate", async () => {
    const ctx = testContext("sk", native);
    const own = await aliceKey(ctx);
    let record = installDistribution(emptySenderKeyRecord(), distributionOf(own), 0);
    const bodies: Uint8Array[] = [];
    for (let i = 0; i < 4; i++)
      bodies.push(await encryptWithSenderKey(ctx, own, nextMessageId(), utf8(`m${i}`)));
    for (const i of [2, 0, 3, 1]) {
      const out = await decryptWithSenderKey(ctx, record, envelope(bodies[i]!), bodies[i]!);
      expect(fromUtf8(out.plaintext)).toBe(`m${i}`);
      record = out.record;
    }
    expect(await codeOf(decryptWithSenderKey(ctx, record, envelope(bodies[1]!), bodies[1]!))).toBe(
      "duplicate_message",
    );
  });

  test("a message moved to another conversation or attributed to another device is refused", async () => {
    const ctx = testContext("sk-moved", native);
    const own = await aliceKey(ctx);
    const record = installDistribution(emptySenderKeyRecord(), distributionOf(own), 0);
    const body = await encryptWithSenderKey(ctx, own, nextMessageId(), utf8("hi"));
    expect(
      await codeOf(
        decryptWithSenderKey(ctx, record, envelope(body, { conversationId: OTHER_CONV }), body),
      ),
    ).toBe("decrypt_failed");
    expect(
      await codeOf(
        decryptWithSenderKey(ctx, record, envelope(body, { senderDeviceId: uuid(12) }), body),
      ),
    ).toBe("decrypt_failed");
    expect(
      await codeOf(decryptWithSenderKey(ctx, record, envelope(body, { senderUserId: BOB }), body)),
    ).toBe("decrypt_failed");
    // Re-signing the moved fields needs the sender's signing key: rewriting them breaks the signature.
    const m = decodeSenderKeyMessage(body);
    const moved = encodeSenderKeyMessageUnsigned(
      { ...m, conversationId: OTHER_CONV },
      m.ciphertext,
    );
    const forged = new Uint8Array([...moved, ...m.signature]);
    const otherRecord = installDistribution(
      emptySenderKeyRecord(),
      { ...distributionOf(own), conversationId: OTHER_CONV },
      0,
    );
    expect(await codeOf(decryptWithSenderKey(ctx, otherRecord, envelope(forged), forged))).toBe(
      "decrypt_failed",
    );
  });

  test("any flipped byte is refused", async () => {
    const ctx = testContext("sk-flip", native);
    const own = await aliceKey(ctx);
    const record = installDistribution(emptySenderKeyRecord(), distributionOf(own), 0);
    const body = await encryptWithSenderKey(ctx, own, nextMessageId(), utf8("integrity"));
    for (let i = 0; i < body.length; i++) {
      const bad = body.slice();
      bad[i]! ^= 0x04;
      const env = envelope(body); // the transport's claims stay those of the original
      expect(await codeOf(decryptWithSenderKey(ctx, record, env, bad))).toBe("decrypt_failed");
    }
  });

  test("closed versions: a newer key closes the old one, which accepts messages only within the grace period", async () => {
    const ctx = testContext("sk-close", native);
    const v1 = await aliceKey(ctx);
    let record = installDistribution(emptySenderKeyRecord(), distributionOf(v1), 1_000);
    const lateOnV1 = await encryptWithSenderKey(ctx, v1, nextMessageId(), utf8("late"));
    const v2 = await aliceKey(ctx, v1.keyVersion);
    record = installDistribution(record, distributionOf(v2), 5_000);
    expect(record.versions.map((v) => [v.keyVersion, v.closedAt])).toEqual([
      [2, undefined],
      [1, 5_000],
    ]);
    const within = await decryptWithSenderKey(
      ctx,
      record,
      envelope(lateOnV1, { serverTime: 5_000 + SENDER_KEY_GRACE_MS }),
      lateOnV1,
    );
    expect(fromUtf8(within.plaintext)).toBe("late");
    const forgedLater = await encryptWithSenderKey(ctx, v1, nextMessageId(), utf8("after removal"));
    expect(
      await codeOf(
        decryptWithSenderKey(
          ctx,
          record,
          envelope(forgedLater, { serverTime: 5_001 + SENDER_KEY_GRACE_MS }),
          forgedLater,
        ),
      ),
    ).toBe("decrypt_failed");
    // Removing the sender closes everything at once.
    const closed = closeAllVersions(record, 6_000);
    const onV2 = await encryptWithSenderKey(ctx, v2, nextMessageId(), utf8("v2 after removal"));
    expect(
      await codeOf(decryptWithSenderKey(ctx, closed, envelope(onV2, { serverTime: 6_000 }), onV2)),
    ).toBe("decrypt_failed");
  });

  test("an old version is never made current again, and a version cannot change its signing key", async () => {
    const ctx = testContext("sk-versions", native);
    const v1 = await aliceKey(ctx);
    const v2 = await aliceKey(ctx, 1);
    let record = installDistribution(emptySenderKeyRecord(), distributionOf(v2), 10);
    record = installDistribution(record, distributionOf(v1), 20); // history: added closed
    expect(record.highestVersion).toBe(2);
    expect(record.versions.find((v) => v.keyVersion === 1)?.closedAt).toBe(20);
    expect(record.versions.find((v) => v.keyVersion === 2)?.closedAt).toBeUndefined();
    const impostor = await aliceKey(ctx, 1);
    expect(() => installDistribution(record, distributionOf(impostor), 30)).toThrow(ParleyError);
  });

  test("the membership epoch of a message must be its key's", async () => {
    const ctx = testContext("sk-epoch", native);
    const own = await aliceKey(ctx, 0, 3);
    const record = installDistribution(
      emptySenderKeyRecord(),
      { ...distributionOf(own), membershipEpoch: 4 },
      0,
    );
    const body = await encryptWithSenderKey(ctx, own, nextMessageId(), utf8("x"));
    expect(await codeOf(decryptWithSenderKey(ctx, record, envelope(body), body))).toBe(
      "decrypt_failed",
    );
  });

  test(`a jump over ${SENDER_KEY_MAX_FORWARD_JUMP} messages is refused`, async () => {
    const ctx = testContext("sk-jump", native);
    const own = await aliceKey(ctx);
    const record = installDistribution(emptySenderKeyRecord(), distributionOf(own), 0);
    own.iteration = SENDER_KEY_MAX_FORWARD_JUMP + 1; // the sender pretends to be far ahead
    const body = await encryptWithSenderKey(ctx, own, nextMessageId(), utf8("far"));
    const err = await decryptWithSenderKey(ctx, record, envelope(body), body).catch((e) => e);
    expect(err.code).toBe("decrypt_failed");
    expect(err.detail).toContain("jump of");
  });

  test("messages encrypted at once get distinct counters and all decrypt", async () => {
    const ctx = testContext("sk-concurrent", native);
    const own = await aliceKey(ctx);
    let record = installDistribution(emptySenderKeyRecord(), distributionOf(own), 0);
    const bodies = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        encryptWithSenderKey(ctx, own, nextMessageId(), utf8(`c${i}`)),
      ),
    );
    expect(new Set(bodies.map((b) => decodeSenderKeyMessage(b).counter)).size).toBe(25);
    expect(own.iteration).toBe(25);
    for (const [i, body] of bodies.entries()) {
      const out = await decryptWithSenderKey(ctx, record, envelope(body), body);
      expect(fromUtf8(out.plaintext)).toBe(`c${i}`);
      record = out.record;
    }
  });

  test("a page of messages decrypts at once; each bad one fails alone and moves nothing", async () => {
    const ctx = testContext("sk-many", native);
    const own = await aliceKey(ctx);
    const start = installDistribution(emptySenderKeyRecord(), distributionOf(own), 0);
    const bodies: Uint8Array[] = [];
    for (let i = 0; i < 6; i++)
      bodies.push(await encryptWithSenderKey(ctx, own, nextMessageId(), utf8(`p${i}`)));
    const forged = bodies[5]!.slice();
    forged[forged.length - 70]! ^= 1; // in the ciphertext: the signature no longer matches
    const items = [bodies[1]!, bodies[0]!, bodies[0]!, forged, bodies[3]!].map((body, i) => ({
      envelope: envelope(i === 3 ? bodies[5]! : body),
      body,
    }));
    const { results, record } = await decryptManyWithSenderKey(ctx, start, items);
    const summary = results.map((r) => ("error" in r ? r.error.code : fromUtf8(r.plaintext)));
    expect(summary).toEqual(["p1", "p0", "duplicate_message", "decrypt_failed", "p3"]);
    // Counter 2 was skipped and is still available; the forged 5 moved nothing.
    const v = record.versions[0]!;
    expect(v.iteration).toBe(4);
    expect([...v.skipped.keys()]).toEqual([2]);
    const late = await decryptWithSenderKey(ctx, record, envelope(bodies[2]!), bodies[2]!);
    expect(fromUtf8(late.plaintext)).toBe("p2");
  });

  test("rotation is due after 100 messages or 7 days", async () => {
    const ctx = testContext("sk-rotate", native);
    const own = await aliceKey(ctx);
    expect(groupKeyNeedsRotation(own, own.createdAt)).toBe(false);
    expect(groupKeyNeedsRotation({ ...own, iteration: 100 }, own.createdAt)).toBe(true);
    expect(groupKeyNeedsRotation(own, own.createdAt + 7 * 86_400_000)).toBe(true);
  });

  test("own keys and records survive encoding", async () => {
    const ctx = testContext("sk-encode", native);
    const own = await aliceKey(ctx);
    let record: SenderKeyRecord = installDistribution(
      emptySenderKeyRecord(),
      distributionOf(own),
      0,
    );
    const bodies: Uint8Array[] = [];
    for (let i = 0; i < 3; i++)
      bodies.push(await encryptWithSenderKey(ctx, own, nextMessageId(), utf8(`m${i}`)));
    record = (await decryptWithSenderKey(ctx, record, envelope(bodies[2]!), bodies[2]!)).record; // two skipped keys
    record = installDistribution(record, distributionOf(await aliceKey(ctx, 1)), 99);
    expect(decodeSenderKeyRecord(encodeSenderKeyRecord(record))).toEqual(record);
    expect(decodeOwnSenderKey(encodeOwnSenderKey(own))).toEqual(own);
  });
});

describe("key headers", () => {
  async function pair(seed: string) {
    const ctx = testContext(seed, native);
    const alice = await createParty(ctx, ALICE, ALICE_PHONE);
    const bob = await createParty(ctx, BOB, BOB_LAPTOP);
    await initiateSession(ctx, alice.store.stores, bob.address, bob.bundle());
    return { ctx, alice, bob };
  }
  const header = (
    ctx: ProtocolContext,
    from: Party,
    to: Party,
    own: OwnSenderKey,
    messageId: string,
    spkId = 1,
  ) =>
    sealKeyHeader(
      ctx,
      from.store.stores,
      {
        ...to.address,
        signedPrekey: { keyId: spkId, publicKey: to.store.signedPrekeys.get(spkId)!.publicKey },
      },
      {
        distribution: distributionOf(own),
        recipientUserId: to.address.userId as UserId,
        recipientDeviceId: to.address.deviceId as DeviceId,
        messageId,
      },
    );

  test("a key header delivers the sender key with the message that starts it", async () => {
    const { ctx, alice, bob } = await pair("kh");
    const own = await aliceKey(ctx);
    const messageId = nextMessageId();
    const kh = await header(ctx, alice, bob, own, messageId);
    const body = await encryptWithSenderKey(ctx, own, messageId, utf8("first group message"));
    const d = await openKeyHeader(
      ctx,
      bob.store.stores,
      alice.address,
      { conversationId: CONV, messageId },
      kh,
    );
    const record = installDistribution(emptySenderKeyRecord(), d, 0);
    const out = await decryptWithSenderKey(ctx, record, envelope(body), body);
    expect(fromUtf8(out.plaintext)).toBe("first group message");
  });

  test("a header moved to another message, conversation or recipient is refused", async () => {
    const { ctx, alice, bob } = await pair("kh-moved");
    const own = await aliceKey(ctx);
    const messageId = nextMessageId();
    const kh = await header(ctx, alice, bob, own, messageId);
    expect(
      await codeOf(
        openKeyHeader(
          ctx,
          bob.store.stores,
          alice.address,
          { conversationId: CONV, messageId: nextMessageId() },
          kh,
        ),
      ),
    ).toBe("decrypt_failed");
    const kh2 = await header(ctx, alice, bob, own, messageId);
    expect(
      await codeOf(
        openKeyHeader(
          ctx,
          bob.store.stores,
          alice.address,
          { conversationId: OTHER_CONV, messageId },
          kh2,
        ),
      ),
    ).toBe("decrypt_failed");
    const carol = await createParty(ctx, uuid(30), uuid(31));
    const kh3 = await header(ctx, alice, bob, own, messageId);
    expect(
      await codeOf(
        openKeyHeader(
          ctx,
          carol.store.stores,
          alice.address,
          { conversationId: CONV, messageId },
          kh3,
        ),
      ),
    ).toBe("decrypt_failed");
  });

  test("any flipped byte in a header is refused", async () => {
    const { ctx, alice, bob } = await pair("kh-flip");
    const own = await aliceKey(ctx);
    const messageId = nextMessageId();
    const kh = await header(ctx, alice, bob, own, messageId);
    for (let i = 0; i < kh.length; i += 7) {
      const bad = kh.slice();
      bad[i]! ^= 0x10;
      expect(["decrypt_failed", "duplicate_message"]).toContain(
        await codeOf(
          openKeyHeader(
            ctx,
            bob.store.stores,
            alice.address,
            { conversationId: CONV, messageId },
            bad,
          ),
        ),
      );
    }
    expect(
      (
        await openKeyHeader(
          ctx,
          bob.store.stores,
          alice.address,
          { conversationId: CONV, messageId },
          kh,
        )
      ).keyVersion,
    ).toBe(1);
  });

  test("post-compromise: a thief with the recipient's old state reads no header sealed after its signed prekey rotates", async () => {
    const { ctx, alice, bob } = await pair("kh-pcs");
    // Bob answers once so Alice's session is a ratchet session that then sits idle.
    const own = await aliceKey(ctx);
    const m1 = nextMessageId();
    await openKeyHeader(
      ctx,
      bob.store.stores,
      alice.address,
      { conversationId: CONV, messageId: m1 },
      await header(ctx, alice, bob, own, m1),
    );
    // The thief copies Bob's whole device state.
    const thief = await createParty(testContext("thief", native), BOB, BOB_LAPTOP);
    for (const [k, v] of bob.store.records) thief.store.records.set(k, v.slice());
    for (const [k, v] of bob.store.signedPrekeys) thief.store.signedPrekeys.set(k, v);
    thief.store.trusted.set(ALICE, bob.store.trusted.get(ALICE)!);
    thief.store.identity.identityKeyPair = bob.store.identity.identityKeyPair;
    // Before rotation the stolen state reads a new header...
    const m2 = nextMessageId();
    const before = await header(ctx, alice, bob, own, m2);
    expect(
      await codeOf(
        openKeyHeader(
          testContext("t1", native),
          thief.store.stores,
          alice.address,
          { conversationId: CONV, messageId: m2 },
          before,
        ),
      ),
    ).toBe("ok");
    // ...Bob rotates his signed prekey (and later deletes the old secret); Alice uses the new one.
    bob.store.signedPrekeys.set(2, await ctx.prims.x25519.generateKeyPair(ctx.rng));
    const m3 = nextMessageId();
    const after = await header(ctx, alice, bob, await aliceKey(ctx, 1), m3, 2);
    expect(
      await codeOf(
        openKeyHeader(
          testContext("t2", native),
          thief.store.stores,
          alice.address,
          { conversationId: CONV, messageId: m3 },
          after,
        ),
      ),
    ).toBe("decrypt_failed");
    expect(
      (
        await openKeyHeader(
          ctx,
          bob.store.stores,
          alice.address,
          { conversationId: CONV, messageId: m3 },
          after,
        )
      ).keyVersion,
    ).toBe(2);
  });
});
