import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { ParleyError } from "../errors.ts";
import {
  ATTACHMENT_MAX_PADDED_BYTES,
  ATTACHMENT_MAX_PLAINTEXT_BYTES,
  ATTACHMENT_MIN_PADDED_BYTES,
  attachmentPaddedSize,
} from "./padding.ts";

/** Signal's formula as Signal writes it, in floating point: the reference we must match. */
function signalPaddedSize(n: number): number {
  return Math.max(541, Math.floor(1.05 ** Math.ceil(Math.log(n) / Math.log(1.05))));
}

describe("attachment padding", () => {
  test("a table of sizes", () => {
    const table: [number, number][] = [
      [0, 541],
      [1, 541],
      [540, 541],
      [541, 541],
      [542, 568],
      [568, 568],
      [569, 596],
      [1_000, 1_020],
      [4_096, 4_201],
      [65_536, 67_789],
      [1_000_000, 1_041_743],
      [10 * 1024 * 1024, 10_835_458],
      [ATTACHMENT_MAX_PLAINTEXT_BYTES, 107_335_738],
    ];
    for (const [size, padded] of table) {
      expect([size, attachmentPaddedSize(size)]).toEqual([size, padded]);
      if (size > 0) expect(signalPaddedSize(size)).toBe(padded);
    }
    expect(ATTACHMENT_MAX_PADDED_BYTES).toBe(107_335_738);
  });

  test("equals Signal's floating-point formula at every bucket edge up to the maximum", () => {
    // Buckets change only where floor(1.05^k) is crossed: check each edge and its neighbours.
    let edges = 0;
    for (let size = 1; size <= ATTACHMENT_MAX_PLAINTEXT_BYTES; ) {
      const padded = attachmentPaddedSize(size);
      for (const n of [padded - 1, padded, padded + 1]) {
        if (n >= 1 && n <= ATTACHMENT_MAX_PLAINTEXT_BYTES) {
          expect([n, attachmentPaddedSize(n)]).toEqual([n, signalPaddedSize(n)]);
        }
      }
      size = padded + 1;
      edges++;
    }
    expect(edges).toBeGreaterThan(200);
  });

  test("the bucket is ≥ n, ≤ max(541, 1.05·n), and monotonic", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: ATTACHMENT_MAX_PLAINTEXT_BYTES - 1 }), (n) => {
        const padded = attachmentPaddedSize(n);
        expect(padded).toBeGreaterThanOrEqual(n);
        expect(padded).toBeGreaterThanOrEqual(ATTACHMENT_MIN_PADDED_BYTES);
        expect(padded).toBeLessThanOrEqual(Math.max(ATTACHMENT_MIN_PADDED_BYTES, 1.05 * n));
        expect(attachmentPaddedSize(n + 1)).toBeGreaterThanOrEqual(padded);
        // A bucket is a fixed point: padding a padded size changes nothing.
        if (padded <= ATTACHMENT_MAX_PLAINTEXT_BYTES)
          expect(attachmentPaddedSize(padded)).toBe(padded);
      }),
      { numRuns: 2_000 },
    );
  });

  test("sizes above the maximum are limit_exceeded; nonsense sizes are RangeErrors", () => {
    try {
      attachmentPaddedSize(ATTACHMENT_MAX_PLAINTEXT_BYTES + 1);
      throw new Error("expected limit_exceeded");
    } catch (err) {
      expect((err as ParleyError).code).toBe("limit_exceeded");
      expect((err as ParleyError).field).toBe("size");
    }
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => attachmentPaddedSize(bad)).toThrow(RangeError);
    }
  });
});
