/**
 * The lab's AWS front: the HTTP endpoint kubeha's `aws.endpoint` names. It relays every call to moto
 * as it came (method, path, headers including Host, body), except DescribeTargetHealth, which the
 * data plane answers with its own states, and calls hit by an injected fault. moto does not check
 * SigV4 signatures by default; the Host header is kept anyway, so a signature stays valid for
 * whoever would check it.
 *
 * Under `/kubeha-lab/` it serves the lab's own control API for other processes (`kubeha lab
 * status`, `kubeha lab fault`): GET status, GET events, POST/DELETE faults.
 */
import { Agent, createServer, request, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { EventLog } from './events';
import type { FaultQueue } from './faults';
import { faultAnswer, serviceOf, type XmlAnswer } from './queryApi';
import type { LabAwsStatus, LabFaultKind } from './types';

/** What the front is built from. */
export interface FrontOptions {
  host: string;
  port: number;
  motoEndpoint: string;
  faults: FaultQueue;
  events: EventLog;
  /** The data plane's answer, or undefined to relay the call to moto. */
  describeTargetHealth(params: URLSearchParams): Promise<XmlAnswer | undefined>;
  status(): LabAwsStatus;
}

/** A listening front. */
export interface Front {
  endpoint: string;
  close(): Promise<void>;
}

// Headers that belong to one connection, not to the call (RFC 9110 section 7.6.1).
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'];

function withoutHopByHop(headers: OutgoingHttpHeaders, keepTransferEncoding: boolean): OutgoingHttpHeaders {
  const out = { ...headers };
  for (const name of HOP_BY_HOP) if (!(keepTransferEncoding && name === 'transfer-encoding')) delete out[name];
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function send(res: ServerResponse, answer: XmlAnswer): void {
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

/** The API action of a call: `Action` of the Query protocols, or the `X-Amz-Target` of the JSON ones. */
function actionOf(req: IncomingMessage, params: URLSearchParams): string | undefined {
  const target = req.headers['x-amz-target'];
  return params.get('Action') ?? (typeof target === 'string' ? target.split('.').pop() : undefined);
}

/** Starts the front on host:port (0: a free port). */
export async function startFront(options: FrontOptions): Promise<Front> {
  const moto = new URL(options.motoEndpoint);
  const agent = new Agent({ keepAlive: true });

  /** Sends the call to moto unchanged and streams moto's answer back. */
  const relay = (req: IncomingMessage, res: ServerResponse, body?: Buffer) => {
    const headers = withoutHopByHop(req.headers, body === undefined);
    const upstream = request({ host: moto.hostname, port: moto.port, method: req.method, path: req.url, headers, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, withoutHopByHop(answer.headers, false));
      answer.pipe(res);
    });
    upstream.on('error', (err) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const text = `the lab's AWS front could not reach moto at ${options.motoEndpoint}: ${err.message}`;
      res.writeHead(502, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(text)) });
      res.end(text);
    });
    if (body) upstream.end(body);
    else req.pipe(upstream);
  };

  const control = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /kubeha-lab/status') return sendJson(res, 200, options.status());
    if (route === 'GET /kubeha-lab/events') {
      const since = url.searchParams.get('since');
      return sendJson(res, 200, options.events.list(since ? Number(since) : undefined));
    }
    if (route === 'DELETE /kubeha-lab/faults') {
      options.faults.clear();
      return sendJson(res, 200, options.faults.list());
    }
    if (route === 'POST /kubeha-lab/faults') {
      try {
        const { kind, count, action } = JSON.parse((await readBody(req)).toString('utf8')) as { kind: LabFaultKind; count: number; action?: string };
        if (kind !== 'throttle' && kind !== 'server-error') throw new Error('kind must be "throttle" or "server-error"');
        options.faults.add(kind, count, action);
        return sendJson(res, 200, options.faults.list());
      } catch (err) {
        return sendJson(res, 400, { error: (err as Error).message });
      }
    }
    return sendJson(res, 404, { error: `no ${route} in the lab's control API` });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://front');
    if (url.pathname.startsWith('/kubeha-lab/')) return control(req, res, url);
    if (url.pathname.startsWith('/moto-api/')) return relay(req, res);
    // Query-protocol calls carry their action in a form body: read it (they are small); stream the rest.
    const isForm = req.method === 'POST' && (req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded');
    const body = isForm ? await readBody(req) : undefined;
    const params = body ? new URLSearchParams(body.toString('utf8')) : url.searchParams;
    const action = actionOf(req, params);
    const service = serviceOf(req.headers, params);
    const fault = options.faults.take(action);
    if (fault) {
      options.events.push({ kind: 'fault', fault, action: action ?? '(unknown)' });
      return send(res, faultAnswer(fault, service));
    }
    if (action === 'DescribeTargetHealth' && service !== 'ec2') {
      // Any trouble building the answer (an unknown group, moto's own errors): moto answers instead.
      const answer = await options.describeTargetHealth(params).catch(() => undefined);
      if (answer) return send(res, answer);
    }
    return relay(req, res, body);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`the lab's AWS front failed: ${err.message}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    endpoint: `http://${options.host}:${port}`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}
