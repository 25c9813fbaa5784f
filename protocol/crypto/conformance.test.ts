// Known-answer tests for the primitives, run against both implementations: RFC vectors kept
// in the repository, and the Wycheproof files from ../shared/vectors/wycheproof.
import { describe, expect, test } from "bun:test";
import { hex, wycheproof } from "../../tests/support/vectors.ts";
import { ParleyError } from "../errors.ts";
import { toHex } from "./bytes.ts";
import { nativePrimitives } from "./native.ts";
import { noblePrimitives } from "./noble.ts";
import type { Primitives } from "./primitives.ts";
import { RFC_VECTORS } from "./vectors/rfc.ts";
import { checkX25519PublicKey, x25519Agree } from "./x25519.ts";

const native = await nativePrimitives();
if (!native)
  throw new Error(
    "this runtime's WebCrypto lacks X25519/Ed25519: the native path cannot be tested",
  );
const PROVIDERS: Primitives[] = [native, noblePrimitives];
const fixed = (bytes: Uint8Array) => () => bytes.slice();

for (const p of PROVIDERS) {
  describe(`${p.name} primitives: RFC vectors`, () => {
    test("RFC 7748 X25519", async () => {
      for (const v of RFC_VECTORS.x25519) {
        expect(toHex(await p.x25519.sharedSecret(hex(v.scalar), hex(v.u)))).toBe(v.out);
      }
      const { alice, bob, shared } = RFC_VECTORS.x25519Dh;
      const a = await p.x25519.generateKeyPair(fixed(hex(alice.secret)));
      const b = await p.x25519.generateKeyPair(fixed(hex(bob.secret)));
      expect(toHex(a.publicKey)).toBe(alice.public);
      expect(toHex(b.publicKey)).toBe(bob.public);
      expect(toHex(await p.x25519.sharedSecret(a.secretKey, b.publicKey))).toBe(shared);
      expect(toHex(await p.x25519.sharedSecret(b.secretKey, a.publicKey))).toBe(shared);
    });

    test("RFC 8032 Ed25519", async () => {
      for (const v of RFC_VECTORS.ed25519) {
        const k = await p.ed25519.generateKeyPair(fixed(hex(v.secret)));
        expect(toHex(k.publicKey)).toBe(v.public);
        expect(toHex(await p.ed25519.sign(k.secretKey, hex(v.message)))).toBe(v.signature);
        expect(await p.ed25519.verify(k.publicKey, hex(v.message), hex(v.signature))).toBe(true);
      }
    });

    test("RFC 5869 HKDF-SHA256", async () => {
      for (const v of RFC_VECTORS.hkdf) {
        expect(toHex(await p.hkdfSha256(hex(v.ikm), hex(v.salt), hex(v.info), v.length))).toBe(
          v.okm,
        );
      }
    });
  });

  describe(`${p.name} primitives: Wycheproof`, () => {
    test("X25519: valid and acceptable results match; an all-zero secret is refused", async () => {
      let checked = 0;
      for (const g of wycheproof("x25519_test.json")) {
        for (const t of g.tests) {
          const run = p.x25519.sharedSecret(hex(t.private), hex(t.public));
          if (t.flags.includes("ZeroSharedSecret")) {
            expect(run).rejects.toThrow();
            await run.catch(() => {});
          } else {
            expect(toHex(await run)).toBe(String(t.shared));
          }
          checked++;
        }
      }
      expect(checked).toBe(518);
    });

    test("Ed25519: valid signatures verify, invalid ones never do", async () => {
      for (const g of wycheproof("ed25519_test.json")) {
        const pk = hex((g.publicKey as { pk: string }).pk);
        for (const t of g.tests) {
          const ok = await p.ed25519.verify(pk, hex(t.msg), hex(t.sig));
          expect({ tcId: t.tcId, ok }).toEqual({ tcId: t.tcId, ok: t.result === "valid" });
        }
      }
    });

    test("Ed25519: the identity-point forgery is refused (WebCrypto alone accepts it)", async () => {
      const identity = new Uint8Array(32);
      identity[0] = 1;
      const forged = new Uint8Array(64);
      forged[0] = 1; // R = identity, S = 0
      for (const message of [new Uint8Array(0), new Uint8Array([1, 2, 3])]) {
        expect(await p.ed25519.verify(identity, message, forged)).toBe(false);
      }
    });

    test("AES-256-GCM with 96-bit nonces: encrypts to the vector, rejects every forgery", async () => {
      let checked = 0;
      for (const g of wycheproof("aes_gcm_test.json")) {
        if (g.keySize !== 256 || g.ivSize !== 96 || g.tagSize !== 128) continue;
        for (const t of g.tests) {
          const [key, iv, aad, msg] = [hex(t.key), hex(t.iv), hex(t.aad), hex(t.msg)];
          const sealed = `${t.ct}${t.tag}`;
          const opened = await p.aes256gcm.decrypt(key, iv, hex(sealed), aad);
          if (t.result === "valid") {
            expect(toHex(await p.aes256gcm.encrypt(key, iv, msg, aad))).toBe(sealed);
            expect(opened && toHex(opened)).toBe(toHex(msg));
          } else {
            expect({ tcId: t.tcId, opened }).toEqual({ tcId: t.tcId, opened: null });
          }
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(50);
    });

    test("AES-GCM refuses keys and nonces of other sizes", async () => {
      expect(
        p.aes256gcm.encrypt(
          new Uint8Array(16),
          new Uint8Array(12),
          new Uint8Array(),
          new Uint8Array(),
        ),
      ).rejects.toThrow("'key' must be 32 bytes");
      expect(
        p.aes256gcm.encrypt(
          new Uint8Array(32),
          new Uint8Array(16),
          new Uint8Array(),
          new Uint8Array(),
        ),
      ).rejects.toThrow("'nonce' must be 12 bytes");
    });

    test("HKDF-SHA256", async () => {
      for (const g of wycheproof("hkdf_sha256_test.json")) {
        for (const t of g.tests) {
          const run = p.hkdfSha256(hex(t.ikm), hex(t.salt), hex(t.info), Number(t.size));
          if (t.result === "valid") expect(toHex(await run)).toBe(String(t.okm));
          else {
            expect(run).rejects.toThrow();
            await run.catch(() => {});
          }
        }
      }
    });

    test("ML-KEM-1024 decapsulation (keys from seeds, incl. implicit rejection)", async () => {
      for (const g of wycheproof("mlkem_1024_test.json")) {
        for (const t of g.tests) {
          const run = (async () => {
            const k = await p.mlkem1024.generateKeyPair(fixed(hex(t.seed)));
            if (t.ek) expect(toHex(k.publicKey)).toBe(String(t.ek));
            return p.mlkem1024.decapsulate(hex(t.c), k.secretKey);
          })();
          if (t.result === "valid") expect(toHex(await run)).toBe(String(t.K));
          else {
            expect(run).rejects.toThrow();
            await run.catch(() => {});
          }
        }
      }
    });

    test("ML-KEM-1024 encapsulation (incl. keys with coefficients over the modulus)", async () => {
      for (const g of wycheproof("mlkem_1024_encaps_test.json")) {
        for (const t of g.tests) {
          const run = p.mlkem1024.encapsulate(hex(t.ek), fixed(hex(t.m)));
          if (t.result === "valid") {
            const out = await run;
            expect(toHex(out.ciphertext)).toBe(String(t.c));
            expect(toHex(out.sharedSecret)).toBe(String(t.K));
          } else {
            expect(run).rejects.toThrow();
            await run.catch(() => {});
          }
        }
      }
    });
  });
}

describe("X25519 public-key validation (Parley is stricter than RFC 7748)", () => {
  test("every low-order and non-canonical Wycheproof key is refused; every valid one accepted", () => {
    for (const g of wycheproof("x25519_test.json")) {
      for (const t of g.tests) {
        const refuse = t.flags.includes("LowOrderPublic") || t.flags.includes("NonCanonicalPublic");
        let refused = false;
        try {
          checkX25519PublicKey(hex(t.public), "peerKey");
        } catch (err) {
          expect(err).toBeInstanceOf(ParleyError);
          refused = true;
        }
        if (refuse) expect({ tcId: t.tcId, refused }).toEqual({ tcId: t.tcId, refused: true });
        if (t.result === "valid")
          expect({ tcId: t.tcId, refused }).toEqual({ tcId: t.tcId, refused: false });
      }
    }
  });

  test("x25519Agree names the field it refuses", async () => {
    const err = await x25519Agree(
      noblePrimitives,
      new Uint8Array(32).fill(1),
      new Uint8Array(32),
      "signedPrekey",
    ).catch((e) => e);
    expect(err).toBeInstanceOf(ParleyError);
    expect(err.code).toBe("invalid_key");
    expect(err.message).toBe("'signedPrekey' is a low-order X25519 point");
  });

  test("a key of the wrong length says how long it must be", () => {
    expect(() => checkX25519PublicKey(new Uint8Array(31), "identityKey")).toThrow(
      "'identityKey' must be 32 bytes",
    );
  });
});
