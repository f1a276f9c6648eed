/**
 * One operation at a time per key, inside this process. Two git commands in one working tree collide on
 * `.git/index.lock`; an execution's steps normally run one after another, but a parallel state (plan commit ∥
 * ticket comment) or a step re-run after a timeout can overlap, so every operation on a workspace queues here.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `fn` after every earlier `run` with the same key has settled; a failure does not block the queue. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const current = previous.then(fn, fn);
    const tail = current.catch(() => {});
    this.#tails.set(key, tail);
    try {
      return await current;
    } finally {
      // The last one out removes the key, so the map holds only workspaces in use.
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
