/**
 * The lab AWS supervisor: a detached process that `kubeha lab up` starts, because the lab's AWS
 * front and load balancer data plane run in-process (lab/aws) and must outlive the command.
 * It starts moto, the front and the data plane, reports them in `ready.json`, and stops them all
 * (moto, proxies, the /etc/hosts block) on SIGTERM or SIGINT.
 *
 * Usage: node supervisor.js <options.json> <ready.json>
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { startLabAws, type LabAwsOptions } from '../aws';
import { processRef, type ProcessRef } from '../tools/processes';
import type { LabAwsRecord } from './state';

function report(file: string, value: unknown): void {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

async function main(): Promise<void> {
  const [optionsFile, readyFile] = process.argv.slice(2);
  if (!optionsFile || !readyFile) throw new Error('usage: supervisor.js <options.json> <ready.json>');
  const options = JSON.parse(readFileSync(optionsFile, 'utf8')) as LabAwsOptions;
  let aws;
  try {
    aws = await startLabAws(options);
  } catch (err) {
    report(readyFile, { error: (err as Error).message });
    process.exitCode = 1;
    return;
  }
  const running = aws;
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${new Date().toISOString()} ${why}: stopping the lab AWS\n`);
    running
      .stop()
      .catch((err: unknown) => process.stdout.write(`stop failed: ${(err as Error).message}\n`))
      .finally(() => process.exit(0));
  };
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => stop(sig));
  const record: LabAwsRecord = {
    supervisor: processRef(process.pid) as ProcessRef,
    endpoint: aws.endpoint,
    motoEndpoint: aws.motoEndpoint,
    motoPid: aws.motoPid,
    hostsFile: options.hostsFile ?? '/etc/hosts',
    hostsBlockLabel: options.hostsBlockLabel,
    ...(options.dns ? { dns: options.dns } : {}),
  };
  report(readyFile, record);
  process.stdout.write(`${new Date().toISOString()} lab AWS at ${aws.endpoint} (moto ${aws.motoEndpoint}, pid ${aws.motoPid})\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
