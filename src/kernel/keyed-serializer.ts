/**
 * Runs the tasks of one key one after another, in arrival order; tasks of different keys run
 * concurrently. Used where concurrent read-modify-commits of one stored entry would otherwise
 * race each other to a revision conflict and retry (a hot KV secret, a token's use count):
 * the revision check still decides correctness, this only keeps one process's own requests
 * from wasting their retries on each other.
 */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    const result = previous ? previous.then(task) : task();
    // Settles when the task does, whatever its outcome, and leaves the map unless a later task queued behind it.
    const tail: Promise<void> = result.then(
      () => this.release(key, tail),
      () => this.release(key, tail),
    );
    this.tails.set(key, tail);
    return result;
  }

  private release(key: string, tail: Promise<void>): void {
    if (this.tails.get(key) === tail) this.tails.delete(key);
  }
}
