/**
 * Loopback addresses for load balancers. Linux routes all of 127.0.0.0/8 to `lo`, so any of them can
 * be bound without configuring an interface.
 */

/** `prefix.first` to `prefix.last`, e.g. `loopbackRange('127.0.99', 1, 254)`. */
export function loopbackRange(prefix: string, first: number, last: number): string[] {
  const addresses: string[] = [];
  for (let n = first; n <= last; n++) addresses.push(`${prefix}.${n}`);
  return addresses;
}

/** The default pool: 127.0.99.1 to 127.0.99.254. */
export const DEFAULT_ADDRESS_POOL: readonly string[] = loopbackRange('127.0.99', 1, 254);

/** Hands out addresses from a pool, skipping those found taken by someone else. */
export class AddressPool {
  private readonly owners = new Map<string, string>();
  private readonly takenElsewhere = new Set<string>();

  constructor(private readonly addresses: readonly string[]) {}

  /** The owner's address, or the first free one; undefined when the pool is used up. */
  allocate(owner: string): string | undefined {
    for (const [address, who] of this.owners) if (who === owner) return address;
    const address = this.addresses.find((a) => !this.owners.has(a) && !this.takenElsewhere.has(a));
    if (address) this.owners.set(address, owner);
    return address;
  }

  /** Gives the address back. */
  release(address: string): void {
    this.owners.delete(address);
  }

  /** Another process listens there: never hand it out again. */
  markTakenElsewhere(address: string): void {
    this.owners.delete(address);
    this.takenElsewhere.add(address);
  }
}
