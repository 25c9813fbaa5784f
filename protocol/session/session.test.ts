import { describe, expect, test } from "bun:test";
import { testContext } from "../../tests/support/deterministic.ts";
import { createParty, type Party } from "../../tests/support/parties.ts";
import { fromUtf8, utf8 } from "../crypto/bytes.ts";
import { nativePrimitives } from "../crypto/native.ts";
import { ParleyError } from "../errors.ts";
import { decryptPairwise, encryptPairwise, initiateSession } from "./cipher.ts";
import { MAX_FORWARD_JUMP } from "./limits.ts";
import { decodeRatchetMessage, encodeRatchetMessage } from "./messages.ts";
import { decodeSessionRecord, encodeSessionRecord } from "./record.ts";

const native = (await nativePrimitives())!;

async function setup(seed = "session", options: { otk?: boolean } = {}) {
  const ctx = testContext(seed, native);
  const alice = await createParty(ctx, "alice");
  const bob = await createParty(ctx, "bob");
  await initiateSession(
    ctx,
    alice.store.stores,
    bob.address,
    bob.bundle({ withOneTimePrekey: options.otk ?? true }),
  );
  const send = (from: Party, to: Party, text: string) =>
    encryptPairwise(ctx, from.store.stores, to.address, utf8(text));
  const receive = async (to: Party, from: Party, body: Uint8Array) =>
    fromUtf8(await decryptPairwise(ctx, to.store.stores, from.address, body));
  return { ctx, alice, bob, send, receive };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return err instanceof ParleyError ? err.code : `not a ParleyError: ${err}`;
  }
}

describe("pairwise sessions", () => {
  test("prekey messages until the first reply, then ratchet messages both ways", async () => {
    const { alice, bob, send, receive } = await setup();
    const m1 = await send(alice, bob, "hello");
    const m2 = await send(alice, bob, "are you there?");
    expect([m1.type, m2.type]).toEqual(["prekey", "prekey"]);
    expect(await receive(bob, alice, m1.body)).toBe("hello");
    expect(await receive(bob, alice, m2.body)).toBe("are you there?");
    const r1 = await send(bob, alice, "yes");
    expect(r1.type).toBe("ratchet");
    expect(await receive(alice, bob, r1.body)).toBe("yes");
    const m3 = await send(alice, bob, "good");
    expect(m3.type).toBe("ratchet");
    expect(await receive(bob, alice, m3.body)).toBe("good");
    // The one-time prekey and the one-time PQ prekey were used up.
    expect(bob.store.oneTimePrekeys.has(1)).toBe(false);
    expect(bob.store.pqPrekeys.has(1)).toBe(false);
  });

  test("out-of-order delivery within a chain and across ratchet steps", async () => {
    const { alice, bob, send, receive } = await setup();
    const first = await send(alice, bob, "a0");
    expect(await receive(bob, alice, first.body)).toBe("a0");
    const a = [
      await send(alice, bob, "a1"),
      await send(alice, bob, "a2"),
      await send(alice, bob, "a3"),
    ];
    expect(await receive(bob, alice, a[2]!.body)).toBe("a3");
    const b1 = await send(bob, alice, "b1");
    expect(await receive(alice, bob, b1.body)).toBe("b1");
    const a4 = await send(alice, bob, "a4"); // new ratchet key on Alice's side
    expect(await receive(bob, alice, a4.body)).toBe("a4");
    expect(await receive(bob, alice, a[0]!.body)).toBe("a1"); // skipped key from the old chain
    expect(await receive(bob, alice, a[1]!.body)).toBe("a2");
  });

  test("a replayed message is a duplicate, and the session goes on", async () => {
    const { alice, bob, send, receive } = await setup();
    const m = await send(alice, bob, "once");
    expect(await receive(bob, alice, m.body)).toBe("once");
    expect(await codeOf(receive(bob, alice, m.body))).toBe("duplicate_message");
    const r = await send(bob, alice, "reply");
    expect(await receive(alice, bob, r.body)).toBe("reply");
    expect(await codeOf(receive(alice, bob, r.body))).toBe("duplicate_message");
    expect(await receive(bob, alice, (await send(alice, bob, "next")).body)).toBe("next");
  });

  test(`a jump over ${MAX_FORWARD_JUMP} messages is refused before any work`, async () => {
    const { ctx, alice, bob, send, receive } = await setup();
    expect(await receive(bob, alice, (await send(alice, bob, "0")).body)).toBe("0");
    const r = await send(bob, alice, "r");
    await receive(alice, bob, r.body);
    const real = decodeRatchetMessage((await send(alice, bob, "x")).body);
    const far = encodeRatchetMessage({ ...real, counter: MAX_FORWARD_JUMP + 1 }, real.ciphertext);
    const err = await decryptPairwise(ctx, bob.store.stores, alice.address, far).catch((e) => e);
    expect(err.code).toBe("decrypt_failed");
    expect(String(err.detail)).toContain("jump of");
  });

  test("any flipped byte is rejected and leaves the session usable", async () => {
    const { alice, bob, send, receive } = await setup("flip");
    const first = await send(alice, bob, "first");
    for (let i = 0; i < first.body.length; i += 97) {
      const bad = first.body.slice();
      bad[i]! ^= 0x01;
      expect(["decrypt_failed", "duplicate_message"]).toContain(
        await codeOf(receive(bob, alice, bad)),
      );
    }
    expect(await receive(bob, alice, first.body)).toBe("first");
    const reply = await send(bob, alice, "reply");
    for (let i = 0; i < reply.body.length; i++) {
      const bad = reply.body.slice();
      bad[i]! ^= 0x80;
      expect(["decrypt_failed", "duplicate_message"]).toContain(
        await codeOf(receive(alice, bob, bad)),
      );
    }
    expect(await receive(alice, bob, reply.body)).toBe("reply");
  });

  test("forward secrecy: the state after receiving cannot decrypt what was received", async () => {
    const { ctx, alice, bob, send, receive } = await setup();
    const m = await send(alice, bob, "secret");
    expect(await receive(bob, alice, m.body)).toBe("secret");
    const stolen = bob.store.records.get("alice:d1")!.slice();
    const thief = await createParty(ctx, "bob");
    thief.store.records.set("alice:d1", stolen);
    expect(await codeOf(decryptPairwise(ctx, thief.store.stores, alice.address, m.body))).toBe(
      "duplicate_message",
    );
  });

  test("post-compromise recovery: a stolen state reads nothing after the victim's next fresh ratchet key", async () => {
    const { alice, bob, send, receive } = await setup("pcs");
    await receive(bob, alice, (await send(alice, bob, "hi")).body);
    await receive(alice, bob, (await send(bob, alice, "hi back")).body);
    // A passive thief copies Alice's whole device state, then sees every ciphertext (with
    // randomness of its own: it cannot know what Alice's device will draw next).
    const thiefCtx = testContext("thief", native);
    const thief = await createParty(thiefCtx, "alice");
    thief.store.records.set("bob:d1", alice.store.records.get("bob:d1")!.slice());
    const readsIt = async (body: Uint8Array) =>
      (await codeOf(decryptPairwise(thiefCtx, thief.store.stores, bob.address, body))) === "ok";
    const deliver = async (from: Party, to: Party, text: string) => {
      const m = await send(from, to, text);
      expect(await receive(to, from, m.body)).toBe(text);
      return m.body;
    };

    // Everything under ratchet keys Alice held when robbed is readable...
    expect(await readsIt(await deliver(bob, alice, "b1"))).toBe(true);
    await deliver(alice, bob, "a1");
    // Bob answers under a new key of his, still paired with a key the thief holds; on
    // receiving it, Alice draws a fresh ratchet key.
    expect(await readsIt(await deliver(bob, alice, "b2"))).toBe(true);
    // ...and nothing Bob sends after seeing Alice's fresh key is.
    await deliver(alice, bob, "a2");
    expect(await readsIt(await deliver(bob, alice, "b3"))).toBe(false);
    expect(await readsIt(await deliver(bob, alice, "b4"))).toBe(false);
  });

  test("session records survive encoding at every step", async () => {
    const { alice, bob, send, receive } = await setup();
    const roundTrip = (p: Party) => {
      for (const [k, v] of p.store.records) {
        const again = encodeSessionRecord(decodeSessionRecord(v));
        expect(again).toEqual(v);
        p.store.records.set(k, again);
      }
    };
    for (let i = 0; i < 5; i++) {
      const m = await send(alice, bob, `a${i}`);
      roundTrip(alice);
      expect(await receive(bob, alice, m.body)).toBe(`a${i}`);
      roundTrip(bob);
      const r = await send(bob, alice, `b${i}`);
      roundTrip(bob);
      expect(await receive(alice, bob, r.body)).toBe(`b${i}`);
    }
  });

  test("a replayed first message cannot revive a session once its state is gone", async () => {
    // Last-resort PQ prekey and no one-time prekey: nothing else would stop the replay.
    const ctx = testContext("replay", native);
    const alice = await createParty(ctx, "alice");
    const bob = await createParty(ctx, "bob");
    await initiateSession(
      ctx,
      alice.store.stores,
      bob.address,
      bob.bundle({ withOneTimePrekey: false, lastResortPq: true }),
    );
    const first = await encryptPairwise(ctx, alice.store.stores, bob.address, utf8("first"));
    expect(fromUtf8(await decryptPairwise(ctx, bob.store.stores, alice.address, first.body))).toBe(
      "first",
    );
    bob.store.records.clear(); // Bob loses the session (or an attacker replays much later)
    expect(await codeOf(decryptPairwise(ctx, bob.store.stores, alice.address, first.body))).toBe(
      "decrypt_failed",
    );
  });

  test("a first message naming a one-time prekey that is gone is refused", async () => {
    const { ctx, alice, bob, send, receive } = await setup();
    await receive(bob, alice, (await send(alice, bob, "x")).body);
    // A new session naming one-time prekey 1 again, which Bob has used up.
    const stale = bob.bundle();
    stale.oneTimePrekey = { keyId: 1, publicKey: stale.oneTimePrekey!.publicKey };
    await initiateSession(ctx, alice.store.stores, bob.address, stale);
    const m = await send(alice, bob, "again");
    expect(await codeOf(receive(bob, alice, m.body))).toBe("decrypt_failed");
  });

  test("a changed account key is reported as untrusted until accepted", async () => {
    const { ctx, alice, bob, send, receive } = await setup();
    await receive(bob, alice, (await send(alice, bob, "x")).body);
    // Alice resets her identity: new account key, new session.
    const alice2 = await createParty(ctx, "alice");
    await initiateSession(ctx, alice2.store.stores, bob.address, bob.bundle());
    const m = await encryptPairwise(ctx, alice2.store.stores, bob.address, utf8("new me"));
    expect(await codeOf(decryptPairwise(ctx, bob.store.stores, alice.address, m.body))).toBe(
      "untrusted_identity",
    );
    await bob.store.saveIdentity("alice", alice2.accountKeyPair.publicKey);
    expect(fromUtf8(await decryptPairwise(ctx, bob.store.stores, alice.address, m.body))).toBe(
      "new me",
    );
  });

  test("messages of an older session still decrypt, and that session is promoted", async () => {
    const { ctx, alice, bob, send, receive } = await setup();
    await receive(bob, alice, (await send(alice, bob, "s1")).body);
    const late = await send(alice, bob, "late on s1");
    // Alice starts a second session (e.g. she lost hers and fetched a new bundle).
    await initiateSession(ctx, alice.store.stores, bob.address, bob.bundle());
    const s2 = await send(alice, bob, "on s2");
    expect(await receive(bob, alice, s2.body)).toBe("on s2");
    expect(await receive(bob, alice, late.body)).toBe("late on s1");
    const record = decodeSessionRecord(bob.store.records.get("alice:d1")!);
    expect(record.archived).toHaveLength(1);
  });

  test("simultaneous initiation converges on one session", async () => {
    const ctx = testContext("simultaneous", native);
    const alice = await createParty(ctx, "alice");
    const bob = await createParty(ctx, "bob");
    await initiateSession(ctx, alice.store.stores, bob.address, bob.bundle());
    await initiateSession(ctx, bob.store.stores, alice.address, alice.bundle());
    const a = await encryptPairwise(ctx, alice.store.stores, bob.address, utf8("from alice"));
    const b = await encryptPairwise(ctx, bob.store.stores, alice.address, utf8("from bob"));
    expect(fromUtf8(await decryptPairwise(ctx, bob.store.stores, alice.address, a.body))).toBe(
      "from alice",
    );
    expect(fromUtf8(await decryptPairwise(ctx, alice.store.stores, bob.address, b.body))).toBe(
      "from bob",
    );
    // One message that does not cross another settles both on the same session.
    const a2 = await encryptPairwise(ctx, alice.store.stores, bob.address, utf8("settle"));
    expect(fromUtf8(await decryptPairwise(ctx, bob.store.stores, alice.address, a2.body))).toBe(
      "settle",
    );
    const b2 = await encryptPairwise(ctx, bob.store.stores, alice.address, utf8("settled"));
    expect(fromUtf8(await decryptPairwise(ctx, alice.store.stores, bob.address, b2.body))).toBe(
      "settled",
    );
    const current = (p: Party, other: Party) =>
      decodeSessionRecord(p.store.records.get(`${other.address.userId}:d1`)!).current!;
    expect(current(alice, bob).baseKey).toEqual(current(bob, alice).baseKey);
  });

  test("concurrent operations on one session are serialized", async () => {
    const { alice, bob, send, receive } = await setup("concurrent");
    await receive(bob, alice, (await send(alice, bob, "start")).body);
    await receive(alice, bob, (await send(bob, alice, "ok")).body);
    const sent = await Promise.all(Array.from({ length: 20 }, (_, i) => send(alice, bob, `c${i}`)));
    const counters = sent.map((m) => decodeRatchetMessage(m.body).counter);
    expect(new Set(counters).size).toBe(20);
    const received = await Promise.all(sent.map((m) => receive(bob, alice, m.body)));
    expect(received).toEqual(Array.from({ length: 20 }, (_, i) => `c${i}`));
  });

  test("native and noble primitives interoperate", async () => {
    const { noblePrimitives } = await import("../crypto/noble.ts");
    const ctxA = testContext("interop-a", native);
    const ctxB = testContext("interop-b", noblePrimitives);
    const alice = await createParty(ctxA, "alice");
    const bob = await createParty(ctxB, "bob");
    await initiateSession(ctxA, alice.store.stores, bob.address, bob.bundle());
    const m = await encryptPairwise(ctxA, alice.store.stores, bob.address, utf8("cross"));
    expect(fromUtf8(await decryptPairwise(ctxB, bob.store.stores, alice.address, m.body))).toBe(
      "cross",
    );
    const r = await encryptPairwise(ctxB, bob.store.stores, alice.address, utf8("back"));
    expect(fromUtf8(await decryptPairwise(ctxA, alice.store.stores, bob.address, r.body))).toBe(
      "back",
    );
  });
});
