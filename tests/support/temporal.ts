// A real Temporal dev server for tests (the project's own `temporal` binary, via the SDK's existing-path option),
// and one workflow bundle per test file: the workflows' index, the file the workers bundle too, found by path so that
// importing this file loads no activity code.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { SEARCH_ATTRIBUTE_NAMES } from '../../domain/core/run-view';
import { ensureTemporalCli } from '../../lib/temporal-cli';

let runtimeInstalled = false;

export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // already installed by another test file in this process
  }
}

export async function startLocalTemporal(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: ensureTemporalCli() },
      ip: '127.0.0.1',
      // the project's search attributes, as lib/dev-server.ts registers them (all Keyword)
      searchAttributes: SEARCH_ATTRIBUTE_NAMES.map((name) =>
        defineSearchAttributeKey(name, SearchAttributeType.KEYWORD),
      ),
    },
  });
}

export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: new DefaultLogger('WARN') });
}
