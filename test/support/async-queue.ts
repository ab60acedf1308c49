/**
 * Values that arrive over time, handed out in order: a test awaits the next one
 * instead of sleeping. Once it has failed, a wait for a value that is not there
 * rejects with the failure.
 */
export class AsyncQueue<T> {
  private readonly values: T[] = [];
  private readonly waiting: Array<{ resolve: (value: T) => void; reject: (error: Error) => void }> = [];
  private failure: Error | undefined;

  /** Hands `value` to the oldest waiter, or keeps it for the next one. */
  push(value: T): void {
    const waiter = this.waiting.shift();
    if (waiter) {
      waiter.resolve(value);
    } else {
      this.values.push(value);
    }
  }

  /** Rejects every wait, now and later, that finds no value. */
  fail(error: Error): void {
    this.failure = error;
    for (const waiter of this.waiting.splice(0)) {
      waiter.reject(error);
    }
  }

  /** The next value. */
  next(): Promise<T> {
    if (this.values.length > 0) {
      return Promise.resolve(this.values.shift() as T);
    }
    if (this.failure) {
      return Promise.reject(this.failure);
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** How many values wait to be taken. */
  get size(): number {
    return this.values.length;
  }
}
