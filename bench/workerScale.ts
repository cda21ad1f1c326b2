/**
 * Worker scale: 20 concurrent BootstrapStackedEtcd runs (one stub world per run, each host action a few
 * ms) driven by one worker, then by two workers on the same task queue, on a local dev server. Prints
 * workflows/s, the ratio, and the process's memory. The stub worlds open no SSH connection: the figures
 * are Temporal's and kubeha's orchestration, not the hosts'. `node dist/bench/workerScale.js [runs]`.
 */
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { NativeConnection, Worker } from '@temporalio/worker';
import { bootstrapInput } from '../test/support/inputs';
import { FakeWorld } from '../test/support/fakeWorld';
import { startTestTemporal } from '../test/support/temporal';
import { workflowBundle } from '../test/support/workflowHarness';

/** Stub activities that keep one world per workflow run (each run bootstraps its own cluster). */
function perRunActivities(worlds: Map<string, Record<string, (input: unknown) => Promise<unknown>>>): object {
  const names = Object.keys(new FakeWorld().activities());
  const route = (name: string) => async (input: unknown) => {
    const id = Context.current().info.workflowExecution?.workflowId ?? 'unknown';
    let stubs = worlds.get(id);
    if (!stubs) {
      const world = new FakeWorld();
      world.joinDelayMs = 5;
      stubs = world.activities() as unknown as Record<string, (input: unknown) => Promise<unknown>>;
      worlds.set(id, stubs);
    }
    return stubs[name](input);
  };
  return Object.fromEntries(names.map((n) => [n, route(n)]));
}

async function drive(workerCount: number, runs: number): Promise<{ seconds: number; rssMb: number }> {
  const env = await startTestTemporal();
  try {
    const taskQueue = `scale-${randomUUID()}`;
    const worlds = new Map<string, Record<string, (input: unknown) => Promise<unknown>>>();
    const workers: Worker[] = [];
    // One connection per worker, as two worker processes would have (the SDK refuses two on one).
    const connections: NativeConnection[] = [];
    for (let i = 0; i < workerCount; i++) {
      const connection = await NativeConnection.connect({ address: env.address });
      connections.push(connection);
      workers.push(
        await Worker.create({
          connection,
          taskQueue,
          workflowBundle: await workflowBundle(),
          activities: perRunActivities(worlds),
          shutdownGraceTime: '1 second',
        }),
      );
    }
    const running = workers.map((w) => w.run());
    const start = performance.now();
    await Promise.all(
      Array.from({ length: runs }, (_, i) =>
        env.client.workflow.execute('BootstrapStackedEtcd', {
          args: [bootstrapInput({ clusterName: `c${i}`, loadBalancer: { name: `kube-api-c${i}` } })],
          taskQueue,
          workflowId: `${taskQueue}-${i}`,
        }),
      ),
    );
    const seconds = (performance.now() - start) / 1000;
    const rssMb = process.memoryUsage().rss / 1024 / 1024;
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    for (const c of connections) await c.close();
    return { seconds, rssMb };
  } finally {
    await env.teardown();
  }
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 20);
  console.log(`worker scale: ${runs} concurrent BootstrapStackedEtcd runs, stub activities, local dev server`);
  const one = await drive(1, runs);
  console.log(`  1 worker:  ${one.seconds.toFixed(1)} s, ${(runs / one.seconds).toFixed(2)} workflows/s, process RSS ${one.rssMb.toFixed(0)} MB`);
  const two = await drive(2, runs);
  console.log(
    `  2 workers: ${two.seconds.toFixed(1)} s, ${(runs / two.seconds).toFixed(2)} workflows/s, process RSS ${two.rssMb.toFixed(0)} MB (both in this process)`,
  );
  console.log(`  ratio (2 workers / 1): ${(one.seconds / two.seconds).toFixed(2)}x on this 2-core machine; SSH connections: none (stub activities)`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
