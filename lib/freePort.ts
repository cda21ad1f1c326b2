/**
 * A free TCP port: the kernel picks one for a listener on `address`, which is closed again at once.
 * Another process may take the port before the caller binds it; callers that start servers on it
 * retry on EADDRINUSE where that matters.
 */
import net from 'node:net';

/** A port free on `address` (default 127.0.0.1) at the time of asking. */
export function freePort(address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, address, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
