import { describe, expect, test } from "bun:test";
import { testContext } from "../../tests/support/deterministic.ts";
import { nativePrimitives } from "../crypto/native.ts";
import { noblePrimitives } from "../crypto/noble.ts";
import { ParleyError } from "../errors.ts";
import type { ConversationId, DeviceId, UserId } from "../identity/ids.ts";
import { encodeLinkCode, parseLinkCode } from "./link-code.ts";
import {
  createLinkRequest,
  openProvisioning,
  type ProvisioningContent,
  sealProvisioning,
} from "./provisioning.ts";

const native = (await nativePrimitives())!;
const USER = "0190a0b0-0000-7000-8000-00000000000a" as UserId;

async function content(seed: string): Promise<ProvisioningContent> {
  const ctx = testContext(seed, native);
  return {
    userId: USER,
    accountKeyPair: await ctx.prims.ed25519.generateKeyPair(ctx.rng),
    profileKey: ctx.rng(32),
    deviceList: new Uint8Array([1, 10, 7]),
    senderKeys: [
      {
        conversationId: "0190a0b0-0000-7000-8000-000000000001" as ConversationId,
        senderUserId: USER,
        senderDeviceId: "0190a0b0-0000-7000-8000-00000000000b" as DeviceId,
        keyVersion: 3,
        iteration: 17,
        chainKey: ctx.rng(32),
        signingKey: (await ctx.prims.ed25519.generateKeyPair(ctx.rng)).publicKey,
        membershipEpoch: 2,
        membershipLogHash: ctx.rng(32),
        deviceListVersion: 5,
      },
    ],
    createdAt: 1_767_225_600_000,
  };
}

describe("link codes", () => {
  test("round trip, read leniently (case, spaces, dashes, Crockford look-alikes)", async () => {
    const { keyPair, code } = await createLinkRequest(testContext("link", native));
    expect(code).toMatch(/^([0-9A-HJKMNP-TV-Z]{4}-){13}[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(parseLinkCode(code)).toEqual(keyPair.publicKey);
    expect(parseLinkCode(code.toLowerCase().replaceAll("-", " "))).toEqual(keyPair.publicKey);
    expect(parseLinkCode(code.replaceAll("0", "O").replaceAll("1", "l"))).toEqual(
      keyPair.publicKey,
    );
  });

  test("a typo is caught by the check bytes", async () => {
    const { code } = await createLinkRequest(testContext("link-typo", native));
    const chars = code.replaceAll("-", "").split("");
    for (let i = 0; i < chars.length; i++) {
      const typo = [...chars];
      typo[i] = typo[i] === "A" ? "B" : "A";
      const err = (() => {
        try {
          parseLinkCode(typo.join(""));
        } catch (e) {
          return e;
        }
      })();
      // 35 bytes fill the 56 characters exactly: a change anywhere changes the key or the check.
      expect(err).toBeInstanceOf(ParleyError);
    }
    expect(() => parseLinkCode("not a code")).toThrow("This link code is not valid");
  });

  test("a low-order key cannot be turned into a code", () => {
    expect(() => encodeLinkCode(new Uint8Array(32))).toThrow(ParleyError);
  });
});

describe("provisioning", () => {
  test("the new device opens what the existing device sealed to its link code, across implementations", async () => {
    const newDevice = await createLinkRequest(testContext("new-device", noblePrimitives));
    const sent = await content("account");
    const envelope = await sealProvisioning(
      testContext("old-device", native),
      parseLinkCode(newDevice.code),
      sent,
    );
    const opened = await openProvisioning(
      testContext("new-device-open", noblePrimitives),
      newDevice.keyPair,
      envelope,
    );
    expect(opened).toEqual(sent);
  });

  test("another device's key, a flipped byte or a mismatched account key pair is refused", async () => {
    const ctx = testContext("prov-bad", native);
    const newDevice = await createLinkRequest(ctx);
    const other = await createLinkRequest(ctx);
    const envelope = await sealProvisioning(
      ctx,
      newDevice.keyPair.publicKey,
      await content("account"),
    );
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (e) => (e as ParleyError).code,
      );
    expect(await codeOf(openProvisioning(ctx, other.keyPair, envelope))).toBe("decrypt_failed");
    for (let i = 0; i < envelope.length; i += 5) {
      const bad = envelope.slice();
      bad[i]! ^= 1;
      expect(await codeOf(openProvisioning(ctx, newDevice.keyPair, bad))).toBe("decrypt_failed");
    }
    const wrong = await content("account");
    wrong.accountKeyPair = {
      ...wrong.accountKeyPair,
      publicKey: (await ctx.prims.ed25519.generateKeyPair(ctx.rng)).publicKey,
    };
    const mismatched = await sealProvisioning(ctx, newDevice.keyPair.publicKey, wrong);
    expect(await codeOf(openProvisioning(ctx, newDevice.keyPair, mismatched))).toBe(
      "decrypt_failed",
    );
  });
});
