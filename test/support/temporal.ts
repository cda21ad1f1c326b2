/**
 * A real Temporal dev server for tests, started from the CLI installed by scripts/setup.sh
 * (never downloaded: `existing-path`).
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTES } from '../../common/searchAttributes';
import { temporalCliPath } from '../../lib/paths';

/**
 * Starts a local dev server with kubeha's search attributes registered. The SDK gives the server
 * 5 s to answer; on a loaded 2-core machine (a lab just started beside it) that can pass, so a start
 * that timed out is tried again before the test fails.
 */
export async function startTestTemporal(attempts = 3): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: temporalCliPath() },
          searchAttributes: Object.values(SEARCH_ATTRIBUTES),
          extraArgs: ['--log-level', 'error'],
        },
      });
    } catch (err) {
      if (attempt >= attempts || !/did not start within/.test(String((err as Error).message))) throw err;
    }
  }
}
