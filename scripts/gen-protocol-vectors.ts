// Regenerates the frozen protocol vectors from their fixed seeds (noble primitives, so the
// output never depends on the runtime). Run only when a wire or KDF change is intended:
//   bun scripts/gen-protocol-vectors.ts
// and say in the commit why the bytes changed (old clients will not read the new ones).
import { join } from "node:path";
import { noblePrimitives } from "../protocol/crypto/noble.ts";
import { buildIdentityVectors, IDENTITY_VECTOR_SEED } from "../protocol/identity/vectors.ts";
import { testContext } from "../tests/support/deterministic.ts";
import { buildMessagingVectors, MESSAGING_VECTOR_SEED } from "../tests/vectors/messaging.ts";

const root = join(import.meta.dir, "..");
const write = async (path: string, data: unknown) => {
  await Bun.write(join(root, path), `${JSON.stringify(data, null, 2)}\n`);
  console.log(`wrote ${path}`);
};
await write("tests/vectors/messaging.json", {
  seed: MESSAGING_VECTOR_SEED,
  vectors: await buildMessagingVectors(noblePrimitives),
});
await write("protocol/identity/vectors.json", {
  seed: IDENTITY_VECTOR_SEED,
  vectors: await buildIdentityVectors(testContext(IDENTITY_VECTOR_SEED)),
});
