/**
 * `kubeha failover start|approve|reject|failback`: FailoverToEast by hand. `start` validates an input and
 * starts the run the webhook would start; the others answer a run: approve and reject through the
 * workflow's `approval` update (the CLI prints the decision that stands: a late answer cannot overturn an
 * earlier one), failback through the `failback` signal.
 */
import { userInfo } from 'node:os';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Command } from 'commander';
import { APPROVAL_UPDATE, FAILBACK_SIGNAL, type ApprovalDecision, type ApprovalUpdate } from '../../common/inputs/failoverToEast';
import { CliError, connectClient } from '../connection';
import type { ViewOutput } from '../followProgress';
import { failoverStartVerb, registerStartVerb } from './workflowVerbs';

/** Who answers, with an optional comment recorded in the run's decisions. */
export interface AnswerOptions {
  by?: string;
  comment?: string;
}

function operatorName(): string {
  try {
    return userInfo().username || 'operator';
  } catch {
    return 'operator';
  }
}

/** Sends the operator's answer to a FailoverToEast run that is open. */
export async function answerFailover(
  workflowId: string,
  answer: 'approve' | 'reject' | 'failback',
  options: AnswerOptions,
  out: ViewOutput = process.stdout,
): Promise<void> {
  const { client, close } = await connectClient();
  const decision: ApprovalDecision = { by: options.by ?? operatorName(), ...(options.comment ? { comment: options.comment } : {}) };
  try {
    const handle = client.workflow.getHandle(workflowId);
    const { status, type } = await handle.describe();
    if (type !== failoverStartVerb.workflowType) throw new CliError(`${workflowId} is a ${type} run, not ${failoverStartVerb.workflowType}`, 2);
    if (status.name !== 'RUNNING') throw new CliError(`${workflowId} is ${status.name.toLowerCase()}, not running: there is nothing to ${answer}`);
    if (answer === 'failback') {
      await handle.signal(FAILBACK_SIGNAL, decision);
      out.write(`sent failback to ${workflowId} (by ${decision.by})\n`);
      return;
    }
    let stands: ApprovalUpdate;
    try {
      stands = await handle.executeUpdate<ApprovalUpdate, [ApprovalUpdate]>(APPROVAL_UPDATE, { args: [{ decision: answer, ...decision }] });
    } catch (err) {
      // The workflow's validator refuses an answer it cannot take (already decided, no approval asked).
      if (err instanceof WorkflowUpdateFailedError) throw new CliError(`${workflowId} refused the ${answer}: ${err.cause?.message ?? err.message}`);
      throw err;
    }
    out.write(`${workflowId}: ${stands.decision === 'approve' ? 'approved' : 'rejected'} by ${stands.by ?? 'operator'}\n`);
    if (stands.decision !== answer)
      throw new CliError(`${workflowId} was already ${stands.decision === 'approve' ? 'approved' : 'rejected'}; your ${answer} changed nothing`);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no workflow ${workflowId} in namespace ${client.options.namespace}`);
    throw err;
  } finally {
    await close();
  }
}

/** Adds `kubeha failover ...`. */
export function registerFailoverCommands(program: Command): void {
  const failover = program.command('failover').description('start FailoverToEast by hand, and answer a running one');
  registerStartVerb(failover, failoverStartVerb);
  const answers: Array<['approve' | 'reject' | 'failback', string]> = [
    ['approve', 'approve a failover that waits for approval'],
    ['reject', 'reject a failover that waits for approval (nothing moves)'],
    ['failback', 'move traffic back to west now, without waiting for the hysteresis window'],
  ];
  for (const [answer, description] of answers) {
    failover
      .command(answer)
      .description(description)
      .argument('<workflowId>', 'the run, e.g. failover-west-to-east')
      .option('--by <name>', 'who answers (recorded in the run); default the login name')
      .option('--comment <text>', 'recorded with the answer')
      .action((workflowId: string, options: AnswerOptions) => answerFailover(workflowId, answer, options));
  }
}
