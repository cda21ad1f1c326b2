/**
 * The project's import boundaries, as `npm run lint` enforces them: each case lints a probe file placed
 * (virtually) in a folder, with ESLint's own API and the project's config, and expects the boundary to
 * refuse or allow it. The last test lints the tree itself, so the lab really holds none of kubeha's code.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ESLint } from 'eslint';
import { projectRoot } from '../../lib/paths';

const eslint = new ESLint({ cwd: projectRoot });

/** The no-restricted-imports messages ESLint gives `source` as if it were the file at `file`. */
async function restricted(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: path.join(projectRoot, file) });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const refused: Array<{ file: string; source: string; why: RegExp }> = [
  {
    file: 'lab/mesh/probe.ts',
    source: "import { KubeClient } from '../../activities/kubernetes/client';\nexport const x = KubeClient;\n",
    why: /lab reproduces the real tools/,
  },
  {
    file: 'lab/kube/kubelet/probe.ts',
    source: "import { mirrorName } from '../../../activities/mesh/mirrors';\nexport const x = mirrorName;\n",
    why: /lab reproduces the real tools/,
  },
  {
    file: 'lab/orchestrator/probe.ts',
    source: "import { loadConfig } from '../../client/webhook/config';\nexport const x = loadConfig;\n",
    why: /lab reproduces the real tools/,
  },
  {
    file: 'lab/aws/probe.ts',
    source: "import { inputIssues } from '../../common/validation';\nexport const x = inputIssues;\n",
    why: /may name kubeha's input types/,
  },
  {
    file: 'activities/hosts/probe.ts',
    source: "import { startLab } from '../../lab/orchestrator';\nexport const x = startLab;\n",
    why: /Activities never import/,
  },
  { file: 'activities/probe.ts', source: "import { run } from '../client/commands/run';\nexport const x = run;\n", why: /Activities never import/ },
  {
    file: 'workflows/probe.ts',
    source: "import { projectRoot } from '../lib/paths';\nexport const x = projectRoot;\n",
    why: /import only common\/ and activity types/,
  },
  // A workflow's own folder is one level deeper: the same rules.
  {
    file: 'workflows/bootstrap/probe.ts',
    source: "import { projectRoot } from '../../lib/paths';\nexport const x = projectRoot;\n",
    why: /import only common\/ and activity types/,
  },
  {
    file: 'workflows/failover/probe.ts',
    source: "import { createFailoverActivities } from '../../activities/failover';\nexport const x = createFailoverActivities;\n",
    why: /Workflows import activity types only/,
  },
  {
    file: 'common/inputs/probe.ts',
    source: "import { loadConfig } from '../../client/webhook/config';\nexport const x = loadConfig;\n",
    why: /import only common\/ and activity types/,
  },
];

const allowed: Array<{ file: string; source: string }> = [
  // The lab's own client, even when a file of the lab is named like a top-level folder.
  { file: 'lab/kube/kubelet/probe.ts', source: "import { KubeClient } from '../client';\nexport const x = KubeClient;\n" },
  { file: 'lab/hosts/probe.ts', source: "import type { HostSpec } from '../../common/inputs/shared';\nexport type X = HostSpec;\n" },
  {
    file: 'lab/orchestrator/probe.ts',
    source: "import { failoverToEastInputSchema } from '../../common/inputs/failoverToEast';\nexport const x = failoverToEastInputSchema;\n",
  },
  { file: 'workflows/engine/probe.ts', source: "import type { Activities } from '../../activities/types';\nexport type X = Activities;\n" },
  {
    file: 'workflows/failover/probe.ts',
    source: "import type { FailoverActivities } from '../../activities/failover/types';\nexport type X = FailoverActivities;\n",
  },
];

describe('import boundaries', () => {
  for (const c of refused) {
    test(`${c.file} may not import ${/from '([^']+)'/.exec(c.source)?.[1]}`, async () => {
      const messages = await restricted(c.file, c.source);
      assert.equal(messages.length, 1, `expected one refusal, got ${JSON.stringify(messages)}`);
      assert.match(messages[0], c.why);
    });
  }
  for (const c of allowed) {
    test(`${c.file} may import ${/from '([^']+)'/.exec(c.source)?.[1]}`, async () => {
      assert.deepEqual(await restricted(c.file, c.source), []);
    });
  }
  test('no file of the lab, activities or workflows crosses a boundary', { timeout: 300_000 }, async () => {
    const results = await eslint.lintFiles(['lab', 'activities', 'workflows', 'common']);
    const crossings = results.flatMap((r) =>
      r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => `${path.relative(projectRoot, r.filePath)}:${m.line} ${m.message}`),
    );
    assert.deepEqual(crossings, []);
    assert.ok(
      results.some((r) => r.filePath.includes(`${path.sep}lab${path.sep}mesh${path.sep}`)),
      'the lab was linted',
    );
  });
});
