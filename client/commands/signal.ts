/**
 * `kubeha retry <workflowId>` and `kubeha abort <workflowId> [reason]`: the operator's answers to a run
 * that holds on a failed step (the signals `retry` and `abort` every kubeha workflow listens to); and
 * `kubeha approve|reject <workflowId> [comment]`: the answer to a run that waits for approval
 * (RecoverControlPlane, FailoverToEast), signed with the operator's user name.
 */
import os from 'node:os';
import { WorkflowNotFoundError } from '@temporalio/client';
import { CliError, connectClient } from '../connection';

/** Sends `retry` (run the failed step again) or `abort` (stop, with a reason) to an open run. */
export async function signalCommand(workflowId: string, signal: 'retry' | 'abort' | 'approve' | 'reject', reason?: string): Promise<void> {
  const { client, close } = await connectClient();
  try {
    const handle = client.workflow.getHandle(workflowId);
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING') throw new CliError(`${workflowId} is ${status.name.toLowerCase()}, not running: there is nothing to ${signal}`);
    if (signal === 'retry') await handle.signal('retry');
    else if (signal === 'abort') await handle.signal('abort', reason ?? 'aborted by operator');
    else await handle.signal(signal, { by: os.userInfo().username, ...(reason ? { comment: reason } : {}) });
    process.stdout.write(`sent ${signal} to ${workflowId}\n`);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no workflow ${workflowId} in namespace ${client.options.namespace}`);
    throw err;
  } finally {
    await close();
  }
}
