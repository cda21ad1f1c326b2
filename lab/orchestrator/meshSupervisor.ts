/**
 * The lab mesh supervisor: a detached process that `kubeha lab kubeconfig` starts once west and east
 * are bootstrapped, running the pair's mesh runtime (lab/mesh/runtime: service load balancers, east's
 * gateway, west's service mirror) until SIGTERM. It reports its pid and the addresses it serves in
 * `mesh/ready.json` and logs to `mesh/supervisor.log`.
 *
 * Usage: node meshSupervisor.js <options.json> <ready.json>
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { startLabMeshRuntime } from '../mesh/runtime';
import { processRef } from '../tools/processes';
import type { LabMeshSupervisorOptions, LabMeshRecord } from './meshControl';
import { withContext } from './pair';

function report(file: string, value: unknown): void {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

function main(): void {
  const [optionsFile, readyFile] = process.argv.slice(2);
  if (!optionsFile || !readyFile) throw new Error('usage: meshSupervisor.js <options.json> <ready.json>');
  const options = JSON.parse(readFileSync(optionsFile, 'utf8')) as LabMeshSupervisorOptions;
  const kubeconfig = readFileSync(options.kubeconfigFile, 'utf8');
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const runtime = startLabMeshRuntime({
    west: { kubeconfig: withContext(kubeconfig, options.west.context), vpcCidr: options.west.vpcCidr },
    east: { kubeconfig: withContext(kubeconfig, options.east.context), vpcCidr: options.east.vpcCidr },
    gatewayBackend: options.gatewayBackend,
    log,
  });
  const record = (): LabMeshRecord => ({ supervisor: processRef(process.pid)!, addresses: runtime.addresses() });
  report(readyFile, record());
  // The addresses appear once the gateway exists: keep the record current so `lab down` can remove them.
  const timer = setInterval(() => report(readyFile, record()), 2000);
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    log(`${why}: stopping the lab mesh runtime`);
    runtime
      .stop()
      .catch((err: unknown) => log(`stop failed: ${(err as Error).message}`))
      .finally(() => process.exit(0));
  };
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => stop(sig));
  log(
    `lab mesh runtime: west ${options.west.context}, east ${options.east.context}, gateway backend ${options.gatewayBackend.host}:${options.gatewayBackend.port}`,
  );
}

main();
