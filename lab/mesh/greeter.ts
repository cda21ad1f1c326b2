/**
 * The demo service's data plane for clients outside the mesh: a small HTTP server on a lab host that
 * answers every request with "greetings from <cluster>", so a client that resolves the service's DNS
 * name and connects can be counted per side. It runs as a process of the host (dies with it), writes
 * its pid to `$KUBEHA_LAB_DIR/greeter.pid`, and stops on SIGTERM.
 *
 * Usage: greeter.js --address A --port P --text "greetings from west"
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { address: { type: 'string' }, port: { type: 'string', default: '8080' }, text: { type: 'string' } } });
if (!values.address || !values.text) {
  process.stderr.write('usage: greeter.js --address A --port P --text TEXT\n');
  process.exit(2);
}
const server = http.createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'text/plain' });
  response.end(`${values.text}\n`);
});
server.listen(Number(values.port), values.address, () => {
  if (process.env.KUBEHA_LAB_DIR) writeFileSync(path.join(process.env.KUBEHA_LAB_DIR, 'greeter.pid'), String(process.pid));
  process.stdout.write(`${new Date().toISOString()} greeter: ${values.text} on ${values.address}:${values.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
