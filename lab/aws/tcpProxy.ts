/**
 * One NLB listener: a TCP proxy on the load balancer's address and the listener's port that hands
 * each new connection to the target its target group picks, byte for byte (no TLS termination,
 * no client IP preservation, as for IP targets).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** Where a connection goes; undefined refuses it (reset), as an NLB with nothing to route to. */
export type PickTarget = () => { host: string; port: number } | undefined;

/** A listening proxy. */
export interface TcpProxy {
  address: string;
  port: number;
  /** Connections open right now (client side). */
  openConnections(): number;
  /** Stops listening and cuts every open connection. */
  close(): Promise<void>;
}

/** Resets a socket (RST), so the peer sees ECONNRESET rather than a clean end. */
function reset(socket: Socket): void {
  if (!socket.destroyed) socket.resetAndDestroy();
}

function relay(client: Socket, pick: PickTarget, sockets: Set<Socket>): void {
  const target = pick();
  if (!target) {
    reset(client);
    return;
  }
  const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true });
  sockets.add(upstream);
  upstream.once('close', () => sockets.delete(upstream));
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  upstream.once('connect', () => {
    // Half-closes travel through (pipe ends the other side); data flows only once both are up.
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  });
  // An error on one side resets the other, so neither end waits on a dead peer.
  upstream.once('error', () => reset(client));
  client.once('error', () => reset(upstream));
}

/** Listens on address:port and relays connections to the picked targets. */
export async function startTcpProxy(address: string, port: number, pick: PickTarget): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  // pauseOnConnect: nothing is read from the client before the target is connected.
  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    relay(client, pick, sockets);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address,
    port,
    openConnections: () => [...sockets].filter((s) => s.localPort === port && s.localAddress === address).length,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
