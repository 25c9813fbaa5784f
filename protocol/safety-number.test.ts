import { describe, expect, test } from "bun:test";
import { Fingerprint, PublicKey } from "@signalapp/libsignal-client";
import { seededRng } from "../tests/support/deterministic.ts";
import { hex } from "../tests/support/vectors.ts";
import { concatBytes, type Rng, toHex, utf8 } from "./crypto/bytes.ts";
import { nativePrimitives } from "./crypto/native.ts";
import { noblePrimitives } from "./crypto/noble.ts";
import { ParleyError } from "./errors.ts";
import {
  compareScannedCode,
  computeSafetyNumber,
  decodeSafetyNumberCode,
  encodeSafetyNumberCode,
  SAFETY_NUMBER_CODE_VERSION,
  SAFETY_NUMBER_ITERATIONS,
  SAFETY_NUMBER_MAX_USER_ID_BYTES,
  type SafetyNumberParty,
} from "./safety-number.ts";

/** A UUIDv7-shaped id from the test rng (the layout matters, not the timestamp). */
function uuidV7(rng: Rng): string {
  const b = rng(16);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function party(rng: Rng): SafetyNumberParty {
  return { userId: uuidV7(rng), accountKey: rng(32) };
}

/** libsignal's view of the same inputs: the key serialized as `0x05 ‖ 32 bytes`. */
function libsignal(local: SafetyNumberParty, remote: SafetyNumberParty) {
  const key = (k: Uint8Array) => PublicKey.deserialize(Buffer.concat([Buffer.of(5), k]));
  const fp = Fingerprint.new(
    SAFETY_NUMBER_ITERATIONS,
    1,
    Buffer.from(local.userId, "utf8"),
    key(local.accountKey),
    Buffer.from(remote.userId, "utf8"),
    key(remote.accountKey),
  );
  // libsignal's scannable form is protobuf: 08 01 12 22 0a 20 ‖ local(32) ‖ 1a 22 0a 20 ‖ remote(32).
  const proto = new Uint8Array(fp.scannableFingerprint().toBuffer());
  return {
    digits: fp.displayableFingerprint().toString(),
    local: proto.slice(6, 38),
    remote: proto.slice(42, 74),
  };
}

function expectCode(run: () => unknown, code: string, field?: string) {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ParleyError);
    expect((err as ParleyError).code).toBe(code as ParleyError["code"]);
    if (field) expect((err as ParleyError).field).toBe(field);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe("safety numbers: libsignal compatibility", () => {
  test("libsignal's own NumericFingerprint v1 vector (rust/protocol/src/fingerprint.rs)", () => {
    // libsignal's Alice and Bob identity keys without their 0x05 prefix, and its stable ids.
    const alice = {
      userId: "+14152222222",
      accountKey: hex("06863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868"),
    };
    const bob = {
      userId: "+14153333333",
      accountKey: hex("f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b"),
    };
    const a = computeSafetyNumber({ local: alice, remote: bob });
    const b = computeSafetyNumber({ local: bob, remote: alice });
    expect(a.digits).toBe("300354477692869396892869876765458257569162576843440918079131");
    expect(b.digits).toBe(a.digits);
    const code = decodeSafetyNumberCode(a.scannable);
    expect(toHex(code.local)).toBe(
      "1e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df",
    );
    expect(toHex(code.remote)).toBe(
      "d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d",
    );
  });

  test("the same keys and ids give libsignal's 60 digits, in both argument orders", () => {
    const rng = seededRng("safety-number libsignal");
    for (let i = 0; i < 6; i++) {
      const x = party(rng);
      const y = party(rng);
      const ours = computeSafetyNumber({ local: x, remote: y });
      const theirs = computeSafetyNumber({ local: y, remote: x });
      const signalXY = libsignal(x, y);
      const signalYX = libsignal(y, x);
      expect(ours.digits).toHaveLength(60);
      expect(ours.digits).toBe(signalXY.digits);
      expect(theirs.digits).toBe(signalYX.digits);
      expect(ours.digits).toBe(theirs.digits);
      // The scannable fingerprints are libsignal's too, though our code's encoding is our own.
      const code = decodeSafetyNumberCode(ours.scannable);
      expect(toHex(code.local)).toBe(toHex(signalXY.local));
      expect(toHex(code.remote)).toBe(toHex(signalXY.remote));
    }
  });

  test("libsignal accepts any 32 bytes after the 0x05 prefix (edge keys agree too)", () => {
    const edges = [new Uint8Array(32), new Uint8Array(32).fill(0xff), hex("01".padEnd(64, "0"))];
    const rng = seededRng("safety-number edges");
    for (const accountKey of edges) {
      const x = { userId: uuidV7(rng), accountKey };
      const y = party(rng);
      expect(computeSafetyNumber({ local: x, remote: y }).digits).toBe(libsignal(x, y).digits);
    }
  });
});

describe("safety numbers: properties", () => {
  const rng = seededRng("safety-number properties");
  const alice = party(rng);
  const bob = party(rng);
  const number = computeSafetyNumber({ local: alice, remote: bob });

  test("the two 30-digit halves are sorted, and display is 12 groups of 5", () => {
    const [first, second] = [number.digits.slice(0, 30), number.digits.slice(30)];
    expect(first <= second).toBe(true);
    expect(number.digits).toMatch(/^\d{60}$/);
    expect(number.display).toMatch(/^\d{5}( \d{5}){11}$/);
    expect(number.display.replaceAll(" ", "")).toBe(number.digits);
  });

  test("a changed key, a one-bit flip or a changed id changes the number", () => {
    const flipped = alice.accountKey.slice();
    flipped[31]! ^= 0x01;
    const variants: SafetyNumberParty[] = [
      { ...alice, accountKey: rng(32) },
      { ...alice, accountKey: flipped },
      { ...alice, userId: uuidV7(rng) },
    ];
    for (const changed of variants) {
      const other = computeSafetyNumber({ local: changed, remote: bob });
      expect(other.digits).not.toBe(number.digits);
      expect(compareScannedCode(other.scannable, number.scannable)).toBe(false);
    }
  });

  test("the noble loop equals the same iteration through both Primitives.sha512", async () => {
    const native = await nativePrimitives();
    const code = decodeSafetyNumberCode(number.scannable);
    for (const prims of [native, noblePrimitives]) {
      if (!prims) throw new Error("native primitives unavailable");
      const p = concatBytes(Uint8Array.of(5), alice.accountKey);
      let h = await prims.sha512(concatBytes(new Uint8Array(2), p, utf8(alice.userId), p));
      for (let i = 1; i < SAFETY_NUMBER_ITERATIONS; i++) h = await prims.sha512(concatBytes(h, p));
      expect(toHex(h.slice(0, 32))).toBe(toHex(code.local));
    }
  });

  test("inputs are checked, naming the field", () => {
    const short = { ...bob, accountKey: new Uint8Array(31) };
    expectCode(
      () => computeSafetyNumber({ local: alice, remote: short }),
      "invalid_key",
      "remote.accountKey",
    );
    expectCode(
      () => computeSafetyNumber({ local: { ...alice, userId: "" }, remote: bob }),
      "invalid_request",
      "local.userId",
    );
    const long = "x".repeat(SAFETY_NUMBER_MAX_USER_ID_BYTES + 1);
    expectCode(
      () => computeSafetyNumber({ local: alice, remote: { ...bob, userId: long } }),
      "invalid_request",
      "remote.userId",
    );
    const notString = { ...bob, userId: 42 as unknown as string };
    expectCode(() => computeSafetyNumber({ local: alice, remote: notString }), "invalid_request");
  });
});

describe("safety numbers: scannable code", () => {
  const rng = seededRng("safety-number scannable");
  const alice = party(rng);
  const bob = party(rng);
  const ours = computeSafetyNumber({ local: alice, remote: bob }).scannable;
  const theirs = computeSafetyNumber({ local: bob, remote: alice }).scannable;

  test("round trip, and the layout is version ‖ type ‖ code version ‖ local ‖ remote", () => {
    const code = decodeSafetyNumberCode(ours);
    expect(code.version).toBe(SAFETY_NUMBER_CODE_VERSION);
    expect(ours).toHaveLength(67);
    expect(toHex(ours.slice(0, 3))).toBe("010f01");
    expect(toHex(encodeSafetyNumberCode(code))).toBe(toHex(ours));
  });

  test("the other side's code is our mirror; our own code or a stranger's is not", () => {
    expect(compareScannedCode(ours, theirs)).toBe(true);
    expect(compareScannedCode(theirs, ours)).toBe(true);
    expect(compareScannedCode(ours, ours)).toBe(false);
    const mallory = party(rng);
    // A man in the middle: Bob sees Mallory's key where Alice's should be.
    const bobSeesMallory = computeSafetyNumber({ local: bob, remote: mallory }).scannable;
    expect(compareScannedCode(ours, bobSeesMallory)).toBe(false);
  });

  test("every flipped byte is refused: header bytes as malformed, fingerprint bytes as false", () => {
    for (let i = 0; i < theirs.length; i++) {
      const tampered = theirs.slice();
      tampered[i]! ^= 0x01;
      if (i < 3) expectCode(() => compareScannedCode(ours, tampered), "malformed_message");
      else expect(compareScannedCode(ours, tampered)).toBe(false);
    }
  });

  test("every truncation and extension is malformed_message", () => {
    for (let n = 0; n < theirs.length; n++) {
      expectCode(() => decodeSafetyNumberCode(theirs.slice(0, n)), "malformed_message");
    }
    expectCode(
      () => decodeSafetyNumberCode(concatBytes(theirs, Uint8Array.of(0))),
      "malformed_message",
    );
    expectCode(() => compareScannedCode(ours, utf8("https://example.com")), "malformed_message");
  });

  test("an unknown code version is malformed_message", () => {
    const future = theirs.slice();
    future[2] = SAFETY_NUMBER_CODE_VERSION + 1;
    expectCode(() => decodeSafetyNumberCode(future), "malformed_message");
  });
});

describe("safety numbers: frozen vector", () => {
  // Fixed Parley-shaped inputs (UUIDv7 ids, Ed25519 account keys); recomputing must not change.
  const alice = {
    userId: "0194f2a0-7c3e-7a41-9b2d-5e8f1c6a3d70",
    accountKey: hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"),
  };
  const bob = {
    userId: "0194f2a1-04b9-7c55-8e61-2f3a9d0b7c14",
    accountKey: hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"),
  };

  test("fixed keys and ids give fixed digits and code bytes", () => {
    const a = computeSafetyNumber({ local: alice, remote: bob });
    expect(a.digits).toBe(FROZEN.digits);
    expect(toHex(a.scannable)).toBe(FROZEN.aliceCode);
    expect(computeSafetyNumber({ local: bob, remote: alice }).digits).toBe(FROZEN.digits);
    expect(a.digits).toBe(libsignal(alice, bob).digits);
  });
});

const FROZEN = {
  digits: "373348258492038471606992812222571799613996849979636933526189",
  aliceCode:
    "010f01" +
    "6785470b5b3f9af9b6ab83557d647138704460ab7a1cd71b179942d9302dcc51" +
    "282e96f6b620104c32785a8a552346e0bee97cb80fcede1388add67f58be4d5d",
};
