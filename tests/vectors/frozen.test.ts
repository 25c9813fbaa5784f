// Frozen vectors: the messaging layers rebuilt from their fixed seed must give exactly the
// checked-in bytes, on both primitive implementations. A failure means the wire format or a
// KDF changed: old clients would not read the new bytes. If that is intended, regenerate
// with `bun scripts/gen-protocol-vectors.ts` and say why in the commit.
import { expect, test } from "bun:test";
import { nativePrimitives } from "../../protocol/crypto/native.ts";
import { noblePrimitives } from "../../protocol/crypto/noble.ts";
import frozen from "./messaging.json" with { type: "json" };
import { buildMessagingVectors, MESSAGING_VECTOR_SEED } from "./messaging.ts";

test("the frozen file is for this seed", () => {
  expect(frozen.seed).toBe(MESSAGING_VECTOR_SEED);
});

for (const prims of [noblePrimitives, (await nativePrimitives())!]) {
  test(`${prims.name}: PQXDH, ratchet, sender keys, key headers and provisioning match the frozen bytes`, async () => {
    const vectors = await buildMessagingVectors(prims);
    expect(Object.keys(vectors)).toEqual(Object.keys(frozen.vectors));
    for (const [name, hex] of Object.entries(frozen.vectors)) {
      expect({ name, hex: vectors[name] }).toEqual({ name, hex });
    }
  });
}
