/**
 * A FIFO of byte arrays from which fixed-size pieces are taken: turns input chunks of any
 * size into cipher chunks. It holds references to the pushed arrays, so callers must not
 * modify an array after pushing it (stream readers hand out fresh arrays, as they should).
 */
export class ByteQueue {
  private readonly pieces: Uint8Array[] = [];
  /** Bytes of `pieces[0]` already taken. */
  private head = 0;
  private queued = 0;

  /** Bytes waiting to be taken. */
  get length(): number {
    return this.queued;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.pieces.push(bytes);
    this.queued += bytes.length;
  }

  /** Removes and returns the next `n` bytes (a view when they lie in one pushed array). */
  take(n: number): Uint8Array {
    if (!Number.isInteger(n) || n < 0 || n > this.queued) {
      throw new RangeError(`cannot take ${n} of ${this.queued} queued bytes`);
    }
    this.queued -= n;
    const first = this.pieces[0];
    if (first && this.head + n <= first.length) {
      const view = first.subarray(this.head, this.head + n);
      this.advance(n);
      return view;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const piece = this.pieces[0]!;
      const count = Math.min(piece.length - this.head, n - filled);
      out.set(piece.subarray(this.head, this.head + count), filled);
      filled += count;
      this.advance(count);
    }
    return out;
  }

  private advance(count: number): void {
    this.head += count;
    if (this.head === this.pieces[0]?.length) {
      this.pieces.shift();
      this.head = 0;
    }
  }
}
