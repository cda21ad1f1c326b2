/**
 * Writes a finished run's history into test/replay/histories/<workflowId>.json, as the recorders of the
 * replay test keep them: the JSON `temporal workflow show --output json` gives operators.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { projectRoot, temporalCliPath } from '../../lib/paths';

/** Writes the history of `workflowId` on the server at `address`; says where and how many events. */
export async function writeHistory(address: string, workflowId: string): Promise<void> {
  const json = execFileSync(temporalCliPath(), ['workflow', 'show', '--address', address, '--workflow-id', workflowId, '--output', 'json'], {
    encoding: 'utf8',
  });
  const file = path.join(projectRoot, 'test', 'replay', 'histories', `${workflowId}.json`);
  await writeFile(file, json);
  console.log(`recorded ${file} (${JSON.parse(json).events.length} events)`);
}
