/**
 * A TCP proxy that adds latency: each chunk, in either direction, is passed on `delay` ms after it
 * arrived (order kept). The delay is read from a file, so it can change while connections stay up.
 * Runs as its own process so that it outlives whoever started the lab.
 *
 * Usage: delayProxy.js <listenAddress> <listenPort> <targetAddress> <targetPort> <delayFile>
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';

const [listenAddress, listenPort, targetAddress, targetPort, delayFile] = process.argv.slice(2);

let delayMs = 0;
function refreshDelay(): void {
  try {
    const value = Number(readFileSync(delayFile, 'utf8').trim());
    delayMs = Number.isFinite(value) && value > 0 ? value : 0;
  } catch {
    delayMs = 0;
  }
}
refreshDelay();
setInterval(refreshDelay, 100);

/** Forwards `from` to `to`, each chunk `delayMs` late. One queue per direction keeps the order. */
function forward(from: net.Socket, to: net.Socket): void {
  const queue: { due: number; chunk?: Buffer }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const drain = () => {
    timer = undefined;
    while (queue.length > 0 && queue[0].due <= Date.now()) {
      const { chunk } = queue.shift() as { chunk?: Buffer };
      if (chunk === undefined) to.end();
      else if (to.writable) to.write(chunk);
    }
    if (queue.length > 0) timer = setTimeout(drain, queue[0].due - Date.now());
  };
  const push = (chunk?: Buffer) => {
    queue.push({ due: Date.now() + delayMs, chunk });
    if (!timer) timer = setTimeout(drain, Math.max(0, queue[0].due - Date.now()));
  };
  from.on('data', (chunk: Buffer) => push(chunk));
  from.on('end', () => push(undefined));
}

const server = net.createServer((client) => {
  const upstream = net.connect(Number(targetPort), targetAddress);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
  client.on('close', () => upstream.end());
  upstream.on('close', () => client.end());
  forward(client, upstream);
  forward(upstream, client);
});
server.listen(Number(listenPort), listenAddress, () => process.stdout.write(`listening on ${listenAddress}:${listenPort}\n`));
process.on('SIGTERM', () => process.exit(0));
