/**
 * A real Temporal dev server for tests, started from the CLI installed by scripts/setup.sh
 * (never downloaded: `existing-path`).
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTES } from '../../common/searchAttributes';
import { temporalCliPath } from '../../lib/paths';

/** Starts a local dev server with kubeha's search attributes registered. */
export async function startTestTemporal(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      searchAttributes: Object.values(SEARCH_ATTRIBUTES),
      extraArgs: ['--log-level', 'error'],
    },
  });
}
