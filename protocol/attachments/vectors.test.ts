import { describe, expect, test } from "bun:test";
import { gcm } from "@noble/ciphers/aes.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { seededRng, testContext } from "../../tests/support/deterministic.ts";
import { hex } from "../../tests/support/vectors.ts";
import { concatBytes, toHex, u32be, u64be, utf8 } from "../crypto/bytes.ts";
import { nativePrimitives } from "../crypto/native.ts";
import { noblePrimitives } from "../crypto/noble.ts";
import type { ParleyError } from "../errors.ts";
import { decryptAttachment } from "./decrypt.ts";
import { encryptAttachment } from "./encrypt.ts";
import { attachmentPaddedSize } from "./padding.ts";

const native = await nativePrimitives();
if (!native) throw new Error("this runtime's WebCrypto lacks what the native path needs");

/**
 * The blob format written out independently of the implementation, straight from the
 * documented layout (chunk-cipher.ts) with @noble directly: HKDF → AES key ‖ 7-byte prefix;
 * nonce = prefix ‖ u32 counter ‖ final flag; AAD = u64 size on the last chunk only.
 */
function referenceBlob(key: Uint8Array, padded: Uint8Array, size: number): Uint8Array {
  const okm = hkdf(sha256, key, new Uint8Array(32), utf8("Parley-v1 attachment"), 39);
  const chunkCount = Math.max(1, Math.ceil(padded.length / 65_536));
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < chunkCount; i++) {
    const final = i === chunkCount - 1;
    const nonce = concatBytes(okm.slice(32), u32be(i), Uint8Array.of(final ? 1 : 0));
    const aad = final ? u64be(size) : new Uint8Array(0);
    const chunk = padded.slice(i * 65_536, (i + 1) * 65_536);
    chunks.push(gcm(okm.slice(0, 32), nonce, aad).encrypt(chunk));
  }
  return concatBytes(...chunks);
}

function padTo(plaintext: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  out.set(plaintext);
  return out;
}

describe("attachment blob format", () => {
  test("the implementation writes exactly the documented layout", async () => {
    for (const size of [0, 30, 541, 542, 2 * 65_536 + 3]) {
      const plaintext = seededRng(`layout ${size}`)(size);
      for (const prims of [native, noblePrimitives]) {
        const got = await encryptAttachment(testContext(`layout ${size}`, prims), plaintext);
        const padded = padTo(plaintext, attachmentPaddedSize(size));
        expect(toHex(got.blob)).toBe(toHex(referenceBlob(got.key, padded, size)));
        expect(toHex(got.digest)).toBe(toHex(sha256(got.blob)));
      }
    }
  });

  test("a blob with non-zero padding, or padded to another size, is refused", async () => {
    const key = seededRng("crafted")(32);
    const size = 100;
    const plaintext = seededRng("crafted plaintext")(size);
    const dirty = padTo(plaintext, attachmentPaddedSize(size));
    dirty[size + 10] = 1;
    const unpadded = padTo(plaintext, size + 1);
    for (const [padded, detail] of [
      [dirty, "non-zero padding"],
      [unpadded, "truncated"],
    ] as const) {
      const blob = referenceBlob(key, padded, size);
      try {
        await decryptAttachment(testContext("r"), blob, { key, digest: sha256(blob), size });
        throw new Error("expected decrypt_failed");
      } catch (err) {
        expect((err as ParleyError).code).toBe("decrypt_failed");
        expect((err as ParleyError).detail).toContain(detail);
      }
    }
  });

  test("frozen vector: a fixed key and plaintext give a fixed blob and digest", async () => {
    for (const prims of [native, noblePrimitives]) {
      const got = await encryptAttachment(
        testContext("attachment frozen vector", prims),
        utf8("Parley attachment vector\n"),
      );
      expect(toHex(got.key)).toBe(FROZEN.key);
      expect([got.size, got.paddedSize, got.blobSize]).toEqual([25, 541, 557]);
      expect(toHex(got.digest)).toBe(FROZEN.digest);
      expect(toHex(got.blob)).toBe(FROZEN.blob.join(""));
      const back = await decryptAttachment(testContext("r", prims), hex(FROZEN.blob.join("")), got);
      expect(back).toEqual(utf8("Parley attachment vector\n"));
    }
  });
});

const FROZEN = {
  key: "01bc26bf200e0ae2f6f5b6e70e87d115cb8ae31bed5def95beedea998f944b33",
  digest: "f1f100f627842fb6d4283e9afd5fd2a510351ad07bd2bb8f661465dc348461af",
  blob: [
    "3b975e8e23c73ad8acd57f4cba86741f77e52040fc3737d7dfece7a0d93ff9a9",
    "dd14901e20ceb18c40803a4d955f702b7d21abe7dbafd1747cad246011890f0f",
    "bd7fd08e3cba80823e8d4fcd1d15478fb37466b0a96d1dcd4c957235ca8d6158",
    "0f2640fd0a1a07ee7b73f1eeadce05bd5d19a9d5fc52952afe28b7c669252fcb",
    "0ffc70cb34f825d05611f72684439a68e376c1e8fe0cd96db25c6ed39a0f6ca5",
    "f34ef1af02884a4100a9c7c221b3e2e32c350b17039238eb83671bfd6ed08eaa",
    "062f0a47f860179b34cfd276fbb6a4c1ce54807b0778b2e9deb58b2af83fc586",
    "de8b559a2d927b9e8ce8bc87bbf0e318caea02f47ccf3ad9b08c38c81e3748db",
    "7f4ac24852387b6e68985f163f589ac0113e0c8fe6c35116d05be569dcfdd7e8",
    "2f1a36e48a8dfe0ddf9d973c37f31d111e71d2c04c7aef0da66fb7ee84838ba4",
    "c598f455ce75f778d0507ed8d8544723e3937a720e6ab5f988b3c11c105d9153",
    "6a5272bc17dca64e8ad2288c9fef68409f7cc9581bea96afd7e194bd37a50b5a",
    "7960a3d02fc4f23b098582a2830ab4acbe106c62a0c7d167e59855cfdbffdf9c",
    "5884801643cef262fbec7ccfe56de618617763abfd2ce38d520cd6bd6cde7c7c",
    "9fc35bec8673ba3abb81f5da4911dad103b398398041b09a8967f7ecb1569afc",
    "5984e2f5c7c47f0e9e767513d795b41039f6097d0bb7f3a0602f1a7901d80231",
    "882d6b591b1d8f11d2625ab9c3ac1ce64593b0fc6e9557669a817a5fcf36dc4f",
    "685f72b58f72ddf92ce1a51202",
  ],
};
