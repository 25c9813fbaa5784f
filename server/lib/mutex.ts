/**
 * A FIFO async mutex. Serializes the database writes of one process (STACK-NOTES: SQLite
 * allows one writer; queueing here avoids SQLITE_BUSY storms). Correctness across
 * processes still comes from SQL transactions, never from this lock.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  private waiting = 0;

  /** Runs `fn` once every earlier caller has finished. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    this.waiting++;
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => this.release(),
      () => this.release(),
    );
    return result;
  }

  /** Callers queued or running. */
  get depth(): number {
    return this.waiting;
  }

  private release() {
    this.waiting--;
  }
}
