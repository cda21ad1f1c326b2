/**
 * The README's walk-through (between `<!-- walkthrough -->` and `<!-- /walkthrough -->`), run line by line
 * as a user would in a second terminal while `npm start` runs: each `npx kubeha ...` becomes `kubeha ...`
 * with the test's data directory in place of `.kubeha/`, and must exit 0. Between the lines the test
 * waits where a user would watch (the failover holding on east before the failback) and reads back what
 * each line did from the lab's records.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeClient } from '../../../lab/kube/client';
import { parseKubeconfig } from '../../../lab/kube/kubeconfig';
import { LAB_SPLIT_API_VERSION, withContext } from '../../../lab/orchestrator/pair';
import { projectRoot } from '../../../lib/paths';
import { runCli, type CliRun } from '../../client/cliProcess';

/** The walk-through's commands as the README shows them, comments dropped. */
export function readmeWalkthrough(readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8')): string[] {
  const block = /<!-- walkthrough -->\n```sh\n([\s\S]*?)```\n<!-- \/walkthrough -->/.exec(readme);
  if (!block) throw new Error('README.md has no walk-through block');
  return block[1]
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

/** The podinfo HTTPRoute's east weight on west. */
async function eastWeight(dataDir: string): Promise<number> {
  const kubeconfig = readFileSync(path.join(dataDir, 'lab', 'inputs', 'kubeconfig'), 'utf8');
  const west = new KubeClient(parseKubeconfig(withContext(kubeconfig, 'west')), 10_000);
  const route = await west.get<{ spec: { rules: Array<{ backendRefs: Array<{ name: string; weight?: number }> }> } }>(
    `/apis/${LAB_SPLIT_API_VERSION}/namespaces/kubeha-demo/httproutes/podinfo`,
  );
  return route.spec.rules[0].backendRefs.find((b) => b.name === 'podinfo-east')?.weight ?? 0;
}

interface StatusJson {
  status: string;
  progress: { steps: Array<{ step: string; state: string }> } | null;
}

/** Runs the walk-through against the running `kubeha start` (Temporal at `address`, data in `dataDir`). */
export async function runWalkthrough(options: { dataDir: string; address: string; say?: (line: string) => void }): Promise<Record<string, number>> {
  const env = { KUBEHA_DATA_DIR: options.dataDir, TEMPORAL_ADDRESS: options.address };
  const timings: Record<string, number> = {};
  const status = async (id: string): Promise<StatusJson> => JSON.parse((await runCli(['status', id, '--json'], env)).stdout) as StatusJson;
  const until = async (what: string, ok: () => Promise<boolean>, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await ok().catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`the walk-through waited ${timeoutMs} ms for ${what}`);
      await sleep(1000);
    }
  };
  const lines = readmeWalkthrough();
  assert.ok(lines.length >= 6, lines.join('\n'));
  for (const line of lines) {
    const words = line.split(/\s+/);
    assert.deepEqual(words.slice(0, 2), ['npx', 'kubeha'], line);
    const args = words.slice(2).map((w) => w.replace(/^\.kubeha\//, `${options.dataDir}/`));
    if (args[0] === 'failover' && args[1] === 'failback') {
      // A user watches the run hold on east before sending it back.
      await until(
        'the failover to hold on east',
        async () => (await status(args[2])).progress?.steps.find((s) => s.step === 'hold')?.state === 'running',
        180_000,
      );
      assert.equal(await eastWeight(options.dataDir), 100, 'all traffic on east while the failover holds');
    }
    const started = Date.now();
    const run: CliRun = await runCli(args, env, 10 * 60_000);
    timings[args.slice(0, 2).join(' ')] = Date.now() - started;
    options.say?.(`$ ${line}\n${run.stdout}${run.stderr}`);
    assert.equal(run.code, 0, `${line}\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}`);
    if (args[0] === 'check') assert.doesNotMatch(run.stdout, /^\s*[‼×]/m, run.stdout);
  }
  const failover = lines
    .find((l) => / failover failback /.test(l))
    ?.split(/\s+/)
    .pop() as string;
  await until('the failover to end', async () => (await status(failover)).status === 'COMPLETED', 180_000);
  assert.equal(await eastWeight(options.dataDir), 0, 'traffic back on west');
  return timings;
}
