/**
 * What the lab's NLB costs: connect + a 1-byte round trip, and connect + a 1 MB echo, through the
 * proxy and directly to the same backend. The figures are printed as test diagnostics (figures, not
 * thresholds: speed is measured, never asserted); the test asserts that every byte comes back unchanged.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { lbInput } from '../../aws/helpers';
import { startBackend, startTestLab, type Backend, type TestLab, useTcpHealthChecks } from './helpers';

const ROUNDS = 30;
const MEGABYTE = randomBytes(1024 * 1024);

/** Connects, sends the payload, half-closes, and waits for the echo to end. Returns ms and the echo's hash. */
function echo(host: string, port: number, payload: Buffer): Promise<{ ms: number; hash: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const hash = createHash('sha256');
    let bytes = 0;
    const socket = connect({ host, port, allowHalfOpen: true }, () => socket.end(payload));
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
      // The echo server never ends on its own: close once everything came back.
      if (bytes >= payload.length) socket.destroy();
    });
    socket.on('close', () => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, hash: hash.digest('hex'), bytes }));
    socket.on('error', reject);
  });
}

function summary(samples: number[]): { median: number; p90: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  return { median: Number(at(0.5).toFixed(2)), p90: Number(at(0.9).toFixed(2)) };
}

describe('lab NLB proxy overhead', () => {
  let t: TestLab;
  let backend: Backend;
  let address: string;

  before(async () => {
    t = await startTestLab(95, { healthCheckIntervalScale: 0.02 });
    const lb = await t.aws.ensureLoadBalancer(lbInput(t.settings, { name: 'kh-bench' }));
    await useTcpHealthChecks(t, lb.targetGroupArn);
    backend = await startBackend('echo', '127.0.95.101', false);
    const ref = { aws: t.settings, targetGroupArn: lb.targetGroupArn, ip: backend.host, port: backend.port };
    await t.aws.registerTarget(ref);
    await t.aws.waitTargetHealthy({ ...ref, deadlineSeconds: 20, pollSeconds: 1 });
    address = t.lab.status().loadBalancers[0]?.address ?? '';
  });
  after(async () => {
    await backend?.close();
    await t?.cleanup();
  });

  for (const [label, payload] of [
    ['connect + 1-byte round trip', Buffer.from('x')],
    ['connect + 1 MB echo', MEGABYTE],
  ] as const) {
    test(`${label}: proxied vs direct`, async (ctx) => {
      const expected = createHash('sha256').update(payload).digest('hex');
      const direct: number[] = [];
      const proxied: number[] = [];
      // Alternate, so both sides see the same machine load.
      for (let i = 0; i < ROUNDS; i++) {
        const d = await echo(backend.host, backend.port, payload);
        const p = await echo(address, 6443, payload);
        assert.equal(d.hash, expected, 'direct echo intact');
        assert.equal(p.hash, expected, 'proxied echo intact');
        direct.push(d.ms);
        proxied.push(p.ms);
      }
      const d = summary(direct);
      const p = summary(proxied);
      ctx.diagnostic(
        `${label} over ${ROUNDS} rounds: direct median ${d.median} ms (p90 ${d.p90}), proxied median ${p.median} ms (p90 ${p.p90}), overhead ${(p.median - d.median).toFixed(2)} ms`,
      );
    });
  }
});
