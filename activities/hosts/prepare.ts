/**
 * `prepareHost`: runs the idempotent preparation script over stdin, reads its report, and when
 * it changed something runs it again as a dry run to verify nothing is left to change.
 */
import { ErrorType } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import type { PrepareHostInput, PrepareHostResult } from '../types';
import { hostFailure, type HostRunner } from './context';
import { transientNetwork } from './kubeadmFailures';
import { buildPrepareScript, expectedItems, type PrepareReport, parsePrepareOutput } from './prepareScript';

const PREPARE_TIMEOUT_MS = 20 * 60_000;

async function runScript(run: HostRunner, host: HostSpec, kubernetesVersion: string, dryRun: boolean): Promise<PrepareReport> {
  const controlPlane = host.role !== 'worker';
  const result = await run.run(host, {
    command: 'sh -s',
    stdin: buildPrepareScript({ kubernetesVersion, controlPlane, dryRun }),
    timeoutMs: PREPARE_TIMEOUT_MS,
    label: dryRun ? 'prepare-host (check)' : 'prepare-host',
  });
  const report = parsePrepareOutput(result.stdout);
  if (report.error?.item === 'kube-version') {
    throw hostFailure({
      type: ErrorType.Conflict,
      host,
      message: report.error.reason,
      retryable: false,
      hint: `upgrades (and downgrades) are a separate operation: set kubernetesVersion to the version the cluster runs, or leave ${host.name} out`,
      result,
    });
  }
  if (report.error || result.exitCode !== 0) {
    const transient = transientNetwork(result.stderr) || /apt-get update failed|lock/i.test(report.error?.reason ?? '');
    throw hostFailure({
      type: transient ? ErrorType.CommandTransient : ErrorType.CommandFailed,
      host,
      message: report.error ? `preparing ${report.error.item} failed: ${report.error.reason}` : `the preparation script exited ${result.exitCode}`,
      retryable: transient,
      hint: 'the items before it are done and stay done; fix the cause on the host (see the output tail) and retry the step',
      result,
      details: { item: report.error?.item },
    });
  }
  if (report.joined) return report;
  const reported = new Set([...report.ok, ...report.changed, ...report.wouldChange]);
  const missing = expectedItems(controlPlane).filter((item) => !reported.has(item));
  if (missing.length > 0) {
    throw hostFailure({
      type: ErrorType.VerificationFailed,
      host,
      message: `the preparation script did not report ${missing.join(', ')}`,
      retryable: true,
      hint: 'the script stopped early (was the SSH session cut?); retry the step',
      result,
    });
  }
  return report;
}

/** Prepares one host for kubeadm, changing only what differs. In a dry run it only checks. */
export async function prepareHost(run: HostRunner, input: PrepareHostInput): Promise<PrepareHostResult> {
  const { host } = input;
  const report = await runScript(run, host, input.kubernetesVersion, input.dryRun === true);
  if (report.joined) return { host: host.name, changed: [], alreadyPrepared: [], joined: true };
  if (input.dryRun) return { host: host.name, changed: report.wouldChange, alreadyPrepared: report.ok };
  if (report.changed.length > 0) {
    const check = await runScript(run, host, input.kubernetesVersion, true);
    if (check.wouldChange.length > 0) {
      throw hostFailure({
        type: ErrorType.VerificationFailed,
        host,
        message: `still not prepared after the changes: ${check.wouldChange.join(', ')}`,
        retryable: true,
        hint: 'something on the host undoes these settings (configuration management?); look at the items named',
      });
    }
  }
  return { host: host.name, changed: report.changed, alreadyPrepared: report.ok };
}
