/**
 * A counting semaphore for the channels of one SSH connection. OpenSSH refuses more than
 * `MaxSessions` (default 10) channels per connection, so commands queue here instead of failing,
 * and a few slots stay free for the kill commands that stop cancelled work.
 */
export class ChannelSlots {
  private inUse = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** Waits for a free slot; call the returned function exactly once to give it back. */
  async acquire(): Promise<() => void> {
    if (this.inUse >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.inUse += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter; the count stays the same.
      if (next) next();
      else this.inUse -= 1;
    };
  }
}
