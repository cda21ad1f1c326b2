/**
 * Codec overhead: encode+decode time per payload at several sizes, and the throughput of a worker
 * running RotateCertificateKey (stub activities) on a local dev server with the codec on and off.
 * Prints figures; run with `node dist/bench/codec.js` after a build (not a test: timings vary by machine).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { dataConverterFor, FAILURE_CONVERTER_PATH } from '../lib/codec/dataConverter';
import { generateKey, keyringOf } from '../lib/codec/keyring';
import { rotationInput, RotationWorld } from '../test/rotate/harness';
import { startTestTemporal } from '../test/support/temporal';

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };

async function codecPerPayload(): Promise<void> {
  const { codec } = dataConverterFor(keyringOf([generateKey()]));
  console.log('codec encode+decode per payload (AES-256-GCM, protobuf-wrapped):');
  for (const size of [100, 1_000, 10_000, 100_000, 1_000_000]) {
    const payload = defaultPayloadConverter.toPayload(randomBytes(size / 2).toString('hex')) as Payload;
    const rounds = Math.max(50, Math.min(20_000, Math.round(20_000_000 / size)));
    for (let i = 0; i < 50; i++) await codec.decode(await codec.encode([payload])); // warm-up
    const start = performance.now();
    for (let i = 0; i < rounds; i++) await codec.decode(await codec.encode([payload]));
    const micros = ((performance.now() - start) * 1000) / rounds;
    const sealed = (await codec.encode([payload]))[0];
    console.log(
      `  ${String(size).padStart(8)} B: ${micros.toFixed(1).padStart(8)} µs  (${(size / micros).toFixed(0)} MB/s, stored ${(sealed.data as Uint8Array).length - (payload.data as Uint8Array).length} B larger)`,
    );
  }
}

async function throughput(runs: number, concurrency: number): Promise<void> {
  const env = await startTestTemporal();
  try {
    console.log(`worker throughput: ${runs} RotateCertificateKey runs (stub activities, ${concurrency} at a time) on a local dev server:`);
    const figures: Record<string, number> = {};
    for (const mode of ['off', 'on', 'off', 'on'] as const) {
      const encrypted = mode === 'on';
      const converter = encrypted ? dataConverterFor(keyringOf([generateKey()])).dataConverter : undefined;
      const bundle = await bundleWorkflowCode({
        workflowsPath: require.resolve('../test/rotate/workflows'),
        logger: quietLogger,
        ...(encrypted ? { failureConverterPath: FAILURE_CONVERTER_PATH } : {}),
      });
      const rw = new RotationWorld();
      rw.world.initialized = true;
      rw.uploadDelayMs = 0;
      const taskQueue = `bench-${mode}-${randomBytes(4).toString('hex')}`;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: bundle,
        activities: rw.allActivities(),
        dataConverter: converter,
        shutdownGraceTime: '1 second',
      });
      const client = new Client({ connection: env.connection, dataConverter: converter });
      const seconds = await worker.runUntil(async () => {
        const start = performance.now();
        let next = 0;
        const lane = async () => {
          while (next < runs) {
            const i = next++;
            // One cluster per run: the cluster lock would otherwise serialise them all.
            await client.workflow.execute('RotateCertificateKey', {
              args: [rotationInput({ clusterName: `c${i}`, certificates: { enabled: false } })],
              taskQueue,
              workflowId: `${taskQueue}-${i}`,
            });
          }
        };
        await Promise.all(Array.from({ length: concurrency }, lane));
        return (performance.now() - start) / 1000;
      });
      figures[mode] = runs / seconds; // the second round of each mode wins (warm server)
      console.log(`  codec ${mode.padEnd(3)}: ${(runs / seconds).toFixed(1)} workflows/s (${seconds.toFixed(1)} s)`);
    }
    console.log(`  codec on / off: ${((figures.on / figures.off) * 100).toFixed(0)} % of the throughput`);
  } finally {
    await env.teardown();
  }
}

async function main(): Promise<void> {
  await codecPerPayload();
  await throughput(Number(process.env.BENCH_RUNS ?? 200), Number(process.env.BENCH_CONCURRENCY ?? 20));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
