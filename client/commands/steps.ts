/**
 * `kubeha steps [workflow] [--markdown]`: what each workflow does, step by step, from the step tables
 * themselves (the names `onlySteps` and `skipSteps` take).
 */
import type { Command } from 'commander';
import { CliError } from '../connection';
import { STEP_TABLES, stepsHelp, stepsMarkdown } from '../stepDocs';

/** Adds `kubeha steps`. */
export function registerStepsCommand(program: Command): void {
  program
    .command('steps')
    .description("list a workflow's steps with what each does (all workflows without a name)")
    .argument('[workflow]', `one of ${Object.keys(STEP_TABLES).join(', ')}`)
    .option('--markdown', 'print markdown tables', false)
    .action((workflow: string | undefined, options: { markdown: boolean }) => {
      const workflows = workflow ? [workflow] : Object.keys(STEP_TABLES);
      for (const name of workflows) if (!STEP_TABLES[name]) throw new CliError(`no workflow "${name}"; one of ${Object.keys(STEP_TABLES).join(', ')}`, 2);
      const text = workflows
        .map((name) => (options.markdown ? `### ${name}\n\n${stepsMarkdown(name)}` : stepsHelp(name, process.stdout.columns || 80)))
        .join('\n\n');
      process.stdout.write(`${text}\n`);
    });
}
