/**
 * The step tables of kubeha's workflows as documentation: `kubeha steps`, each verb's `--help`, and the
 * README's step tables are all made from the tables' own names and descriptions, written once in the
 * workflows. `node dist/client/stepDocs.js --write README.md` refreshes the README; a test fails when it
 * and the tables disagree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { BACKUP_STEP_TABLE } from '../workflows/backup';
import { RECOVER_STEP_TABLE } from '../workflows/recover';
import { BOOTSTRAP_STEP_TABLE } from '../workflows/bootstrap';
import { FAILOVER_STEP_TABLE } from '../workflows/failover';
import { MESH_STEP_TABLE } from '../workflows/mesh';
import { ROTATION_STEP_TABLE } from '../workflows/rotate';

/** What documentation needs of a step. */
export interface DocumentedStep {
  name: string;
  description: string;
}

/** Every user-facing workflow's step table, by workflow type. */
export const STEP_TABLES: Readonly<Record<string, readonly DocumentedStep[]>> = {
  BootstrapStackedEtcd: BOOTSTRAP_STEP_TABLE,
  LinkMeshClusters: MESH_STEP_TABLE,
  RotateCertificateKey: ROTATION_STEP_TABLE,
  FailoverToEast: FAILOVER_STEP_TABLE,
  BackupEtcd: BACKUP_STEP_TABLE,
  RecoverControlPlane: RECOVER_STEP_TABLE,
};

function table(workflow: string): readonly DocumentedStep[] {
  const steps = STEP_TABLES[workflow];
  if (!steps) throw new Error(`no workflow "${workflow}"; one of ${Object.keys(STEP_TABLES).join(', ')}`);
  return steps;
}

/** The steps as a markdown table (`| step | what it does |`). */
export function stepsMarkdown(workflow: string): string {
  const rows = table(workflow).map((s) => `| \`${s.name}\` | ${s.description.replace(/\|/g, '\\|')} |`);
  return ['| step | what it does |', '| --- | --- |', ...rows].join('\n');
}

/** The steps as help text: one name per line, its description wrapped under it. */
export function stepsHelp(workflow: string, columns = 80): string {
  const lines = [`Steps of ${workflow} (names for onlySteps / skipSteps), in order:`];
  for (const step of table(workflow)) {
    lines.push(`  ${step.name}`);
    let line = '     ';
    for (const word of step.description.split(/\s+/)) {
      if (line.length + word.length + 1 > columns && line.trim()) {
        lines.push(line);
        line = '     ';
      }
      line += ` ${word}`;
    }
    if (line.trim()) lines.push(line);
  }
  return lines.join('\n');
}

const BLOCK = /<!-- steps:([A-Za-z]+) -->\n(?:[\s\S]*?\n)??<!-- \/steps -->/g;

/** `text` with every `<!-- steps:Workflow -->` block replaced by that workflow's current table. */
export function withStepTables(text: string): string {
  return text.replace(BLOCK, (_all, workflow: string) => `<!-- steps:${workflow} -->\n${stepsMarkdown(workflow)}\n<!-- /steps -->`);
}

/** The workflows whose tables `text` carries. */
export function documentedWorkflows(text: string): string[] {
  return [...text.matchAll(BLOCK)].map((m) => m[1]);
}

if (require.main === module) {
  const at = process.argv.indexOf('--write');
  if (at < 0 || !process.argv[at + 1]) {
    process.stderr.write('usage: node dist/client/stepDocs.js --write README.md\n');
    process.exitCode = 2;
  } else {
    const file = process.argv[at + 1];
    writeFileSync(file, withStepTables(readFileSync(file, 'utf8')));
  }
}
