// Every encoded identity structure, mutated: a flipped byte anywhere is never accepted
// (decoding or verification refuses it), and every truncation or extension — and any random
// input — is refused by the decoder with `malformed_message` only.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { testContext } from "../../tests/support/deterministic.ts";
import { fromHex } from "../crypto/bytes.ts";
import { nativePrimitives } from "../crypto/native.ts";
import { ParleyError } from "../errors.ts";
import {
  decodeDeviceCertificate,
  encodeDeviceCertificate,
  verifyDeviceCertificate,
} from "./device-certificate.ts";
import { decodeDeviceList, encodeDeviceList } from "./device-list.ts";
import { verifyDeviceList } from "./device-list-verify.ts";
import { asAccountPublicKey } from "./keys.ts";
import { decodeMembershipEntry, encodeMembershipEntry } from "./membership-entry.ts";
import { verifyMembershipLog } from "./membership-log.ts";
import { decodeSignedPrekey, encodeSignedPrekey, verifyPrekey } from "./prekey.ts";
import { VECTOR_IDS } from "./vectors.ts";

const native = (await nativePrimitives())!;
const ctx = testContext("codec", native);
const now = ctx.now() + 200_000;
const v: Record<string, string> = JSON.parse(
  readFileSync(join(import.meta.dir, "vectors.json"), "utf8"),
).vectors;
const alice = asAccountPublicKey(fromHex(v.aliceAccountPublicKey!));
const bob = asAccountPublicKey(fromHex(v.bobAccountPublicKey!));
const { alice: userId, bob: bobId, laptop, group } = VECTOR_IDS;
const entryNames = Object.keys(v).filter((k) => k.startsWith("membershipEntry"));
const entries = entryNames.map((k) => decodeMembershipEntry(fromHex(v[k]!)));
const v1Head = (
  await verifyDeviceList(ctx, alice, decodeDeviceList(fromHex(v.deviceListV1!)), {
    userId,
    now,
  })
).head;

interface Case {
  name: string;
  decode(bytes: Uint8Array): unknown;
  encode(value: never): Uint8Array;
  /** Decodes and verifies; throws unless the bytes are exactly acceptable. */
  accept(bytes: Uint8Array): Promise<unknown>;
}

const certificate = (name: string): Case => ({
  name,
  decode: decodeDeviceCertificate,
  encode: encodeDeviceCertificate,
  accept: (b) => verifyDeviceCertificate(ctx, alice, decodeDeviceCertificate(b), { userId, now }),
});
const prekey = (name: string, kind: "signed" | "one-time" | "pq-last-resort"): Case => ({
  name,
  decode: decodeSignedPrekey,
  encode: encodeSignedPrekey,
  accept: (b) =>
    verifyPrekey(ctx, alice, decodeSignedPrekey(b), { userId, deviceId: laptop, kind, now }),
});
const entry = (index: number): Case => ({
  name: entryNames[index]!,
  decode: decodeMembershipEntry,
  encode: encodeMembershipEntry,
  accept: (b) => {
    const log = [...entries];
    log[index] = decodeMembershipEntry(b);
    return verifyMembershipLog(ctx, log, {
      conversationId: group,
      accountKeyOf: new Map([
        [userId, alice],
        [bobId, bob],
      ]),
      expectedLatestHash: fromHex(v.membershipLatestHash!),
    });
  },
});
const CASES: Case[] = [
  certificate("laptopCertificate"),
  certificate("phoneCertificate"),
  prekey("signedPrekey", "signed"),
  prekey("oneTimePrekey", "one-time"),
  prekey("pqLastResortPrekey", "pq-last-resort"),
  {
    name: "deviceListV1",
    decode: decodeDeviceList,
    encode: encodeDeviceList,
    accept: (b) => verifyDeviceList(ctx, alice, decodeDeviceList(b), { userId, now }),
  },
  {
    name: "deviceListV2",
    decode: decodeDeviceList,
    encode: encodeDeviceList,
    accept: (b) =>
      verifyDeviceList(ctx, alice, decodeDeviceList(b), { userId, now, latestSeen: v1Head }),
  },
  ...entryNames.map((_, i) => entry(i)),
];

const REFUSALS = new Set([
  "malformed_message",
  "invalid_signature",
  "invalid_certificate",
  "invalid_key",
  "device_list_rollback",
  "device_list_expired",
  "membership_log_invalid",
]);

async function refusal(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (err) {
    if (err instanceof ParleyError) return err.code;
    return `not a ParleyError: ${String(err)}`;
  }
  return "accepted";
}

function decodeRefusal(decode: (b: Uint8Array) => unknown, bytes: Uint8Array): string {
  try {
    decode(bytes);
  } catch (err) {
    return err instanceof ParleyError ? err.code : `not a ParleyError: ${String(err)}`;
  }
  return "accepted";
}

for (const c of CASES) {
  describe(c.name, () => {
    const bytes = fromHex(v[c.name]!);

    test("decodes, re-encodes to the same bytes and is accepted as is", async () => {
      expect(c.encode(c.decode(bytes) as never)).toEqual(bytes);
      await c.accept(bytes);
    });

    test("a flipped byte anywhere is never accepted", async () => {
      const masks = [0x01, 0x80, 0xff, 0x10];
      for (let i = 0; i < bytes.length; i++) {
        const flipped = bytes.slice();
        flipped[i] = bytes[i]! ^ masks[i % masks.length]!;
        const code = await refusal(() => c.accept(flipped));
        if (!REFUSALS.has(code)) throw new Error(`byte ${i}: ${code}`);
      }
    });

    test("every truncation and extension is malformed_message", () => {
      for (let n = 0; n < bytes.length; n++) {
        expect(decodeRefusal(c.decode, bytes.subarray(0, n))).toBe("malformed_message");
      }
      for (const extra of [[0], [0xff], [1, 2, 3], new Array(64).fill(7)]) {
        const longer = new Uint8Array([...bytes, ...extra]);
        expect(decodeRefusal(c.decode, longer)).toBe("malformed_message");
      }
    });

    test("random input is malformed_message only", () => {
      const header = bytes.subarray(0, 2);
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), (random, withHeader) => {
          const input = withHeader ? new Uint8Array([...header, ...random]) : random;
          const code = decodeRefusal(c.decode, input);
          expect(code === "malformed_message" || code === "accepted").toBe(true);
        }),
        { numRuns: 300 },
      );
    });
  });
}
