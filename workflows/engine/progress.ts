/**
 * Keeps a run's {@link Progress} and shows it where operators look: the `progress` query, the Web UI's
 * current details (markdown) and the typed search attributes (current step, phase).
 */
import { defineQuery, patched, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { type HostCondition, PROGRESS_QUERY, type Progress, type StepCondition, type StepState } from '../../common/progress';
import { SEARCH_ATTRIBUTES } from '../../common/searchAttributes';

/** Query: the run's conditions per step and per host (every workflow answers it from its tracker). */
export const progressQuery = defineQuery<Progress>(PROGRESS_QUERY);

const SYMBOL: Record<StepState, string> = {
  pending: '…',
  running: '▶',
  waiting: '⏸',
  done: '✓',
  failed: '✗',
  skipped: '–',
};

/** Builds and publishes the progress of one workflow run. Workflow-side only. */
export class ProgressTracker {
  readonly progress: Progress;

  constructor(workflow: string, subject: string, stepNames: readonly string[]) {
    this.progress = {
      workflow,
      subject,
      headline: undefined,
      phase: 'validating',
      steps: stepNames.map((step) => ({ step, state: 'pending', attempts: 0, hosts: [] })),
      facts: {},
      updatedAt: now(),
    };
  }

  /** The condition of a step by name. */
  step(name: string): StepCondition {
    const found = this.progress.steps.find((s) => s.step === name);
    if (!found) throw new Error(`unknown step ${name}`);
    return found;
  }

  /** Sets the run's phase, and why it waits when it does. */
  setPhase(phase: Progress['phase'], waitingFor?: string): void {
    this.progress.phase = phase;
    this.progress.waitingFor = waitingFor;
    this.publish();
  }

  /** Updates one step's condition. */
  setStep(name: string, state: StepState, reason?: string, message?: string): void {
    const step = this.step(name);
    // An attempt starts when a step goes from idle or failed to running, not on every message update.
    const starting = state === 'running' && step.state !== 'running' && step.state !== 'waiting';
    step.state = state;
    step.reason = reason;
    step.message = message;
    if (starting) {
      step.attempts += 1;
      step.startedAt ??= now();
      step.finishedAt = undefined;
      this.progress.currentStep = name;
    }
    if (state === 'done' || state === 'failed' || state === 'skipped') step.finishedAt = now();
    this.publish();
  }

  /** Updates one host's condition within a step (e.g. "join of cp-2 waits: target initial"). */
  setHost(stepName: string, host: string, state: StepState, reason?: string, message?: string): void {
    const step = this.step(stepName);
    const condition: HostCondition = { host, state, reason, message, updatedAt: now() };
    const index = step.hosts.findIndex((h) => h.host === host);
    if (index >= 0) step.hosts[index] = condition;
    else step.hosts.push(condition);
    this.publish();
  }

  /** Sets the lines shown first (see {@link Progress.headline}). Never a secret. */
  setHeadline(lines: string[]): void {
    this.progress.headline = lines;
    this.publish();
  }

  /** Records a fact worth showing (load balancer DNS name, spare hosts, quorum). Never a secret. */
  setFact(key: string, value: string): void {
    this.progress.facts[key] = value;
    this.publish();
  }

  /**
   * Takes over the steps and facts of an earlier run (continue-as-new), without publishing: the run's
   * next update shows them.
   */
  restore(earlier: Progress): void {
    this.progress.steps = earlier.steps;
    this.progress.facts = earlier.facts;
    this.progress.headline = earlier.headline;
  }

  /**
   * Records a fact that shows from the next publish on, without one of its own: no new command in the
   * workflow's history, so a fact added to a workflow keeps runs already in flight replaying.
   */
  addFactSilently(key: string, value: string): void {
    this.progress.facts[key] = value;
  }

  private publish(): void {
    this.progress.updatedAt = now();
    setCurrentDetails(renderMarkdown(this.progress));
    const attributes = `${this.progress.currentStep ?? 'none'}|${this.progress.phase}`;
    // Each upsert is an event in the history: write the attributes only when they change, so a long
    // wait that updates its message every round does not fill the history (runs in flight keep writing).
    if (attributes === this.published && patched('kubeha-attributes-on-change')) return;
    this.published = attributes;
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.step, value: this.progress.currentStep ?? 'none' },
      { key: SEARCH_ATTRIBUTES.phase, value: this.progress.phase },
    ]);
  }

  /** The step and phase last written to the search attributes. */
  private published?: string;
}

function now(): string {
  // Workflow time is deterministic (the time of the current workflow task), so this is replay-safe.
  return new Date().toISOString();
}

/** Renders progress as the markdown the Web UI shows under "Current details". */
export function renderMarkdown(progress: Progress): string {
  const lines = [`**${progress.workflow}** · ${progress.subject} · ${progress.phase}`];
  if (progress.headline?.length) lines.push('', ...progress.headline.map((line) => `> ${line}`));
  if (progress.waitingFor) lines.push('', `⏸ waiting for: ${progress.waitingFor}`);
  lines.push('');
  for (const step of progress.steps) {
    const why = [step.reason, step.message].filter(Boolean).join(': ');
    lines.push(`- ${SYMBOL[step.state]} **${step.step}** ${step.state}${why ? ` (${why})` : ''}`);
    for (const host of step.hosts) {
      const hostWhy = [host.reason, host.message].filter(Boolean).join(': ');
      lines.push(`  - ${SYMBOL[host.state]} ${host.host}${hostWhy ? ` (${hostWhy})` : ''}`);
    }
  }
  const facts = Object.entries(progress.facts);
  if (facts.length) {
    lines.push('', ...facts.map(([k, v]) => `- ${k}: \`${v}\``));
  }
  lines.push('', `run ${workflowInfo().runId}`);
  return lines.join('\n');
}
