// promptcot CLI: start runs, watch their progress, list and cancel them, and keep schedules for corpus refreshes.
//   npm run cli -- start batchInference --input run.json [--id ID] [--wait]
//   npm run cli -- status ID [--watch]
//   npm run cli -- list [--running] [--filter waiting-retry|paused|runs|…|state=paused|QUERY]   (README: filters)
//   npm run cli -- search-attributes [--register]                (the project's search attributes on a cluster)
//   npm run cli -- cancel ID
//   npm run cli -- signal ID pause|resume|retryStep|abandon [JSON]  (any signal of a run; JSON: its argument,
//                                                       e.g. raiseBudget '{"tokens":{"total":2000000}}')
//   npm run cli -- query ID status                               (any query of a run, printed as JSON)
//   npm run cli -- schedule ID --workflow batchInference --input run.json --every 1d
//   npm run cli -- workflows [NAME] [--json]                     (input JSON Schema and an example input of each)
//   npm run cli -- codeforces-cache --out FILE [--contests 1971,1972] [--api-base URL] [--delay-ms 2000]
//                                                                (Codeforces standings for the Elo; needs the API)
import { readFileSync } from 'node:fs';
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, WorkflowFailedError, type Client } from '@temporalio/client';
import { loadConfig } from '../activities/config';
import type { Config } from '../domain/platform/config';
import { safeParseWith } from '../domain/core/validation';
import { inputJsonSchema, STARTABLE_WORKFLOWS, type StartableWorkflow } from '../domain/registry/workflows';
import { LIST_FILTERS, listFilterQuery, runSummary } from '../domain/core/run-view';
import { connectClient } from '../workers/connection';
import { benchmarkContests, CODEFORCES_API, fetchCodeforcesCache } from '../activities/eval/codeforces-cache';
import { readRunView, renderRunView } from './progress-view';
import { registerSearchAttributes, searchAttributeState } from './search-attributes';

export class UsageError extends Error {
  override name = 'UsageError';
}

interface Args {
  positional: string[];
  flags: Map<string, string | true>;
}

function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const [k, v] = a.slice(2).split('=', 2) as [string, string | undefined];
      if (v !== undefined) flags.set(k, v);
      else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) flags.set(k, argv[++i]!);
      else flags.set(k, true);
    } else positional.push(a);
  }
  return { positional, flags };
}

function flag(args: Args, name: string): string | undefined {
  const v = args.flags.get(name);
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return v;
}

/** The registry entry of a startable workflow, or a usage error listing them. */
function startable(workflow: string): StartableWorkflow {
  const spec = Object.hasOwn(STARTABLE_WORKFLOWS, workflow) ? STARTABLE_WORKFLOWS[workflow] : undefined;
  if (!spec)
    throw new UsageError(`unknown workflow "${workflow}" (known: ${Object.keys(STARTABLE_WORKFLOWS).join(', ')})`);
  return spec;
}

/** Reads the workflow input from --input FILE or --json TEXT and validates it, naming the bad field. */
export function readWorkflowInput(workflow: string, args: Args): unknown {
  const spec = startable(workflow);
  const file = flag(args, 'input');
  const text = file !== undefined ? readFileSync(file, 'utf8') : flag(args, 'json');
  if (text === undefined) throw new UsageError('give the workflow input with --input FILE.json or --json TEXT');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file ?? '--json'}: invalid JSON: ${(err as Error).message}`);
  }
  const parsed = safeParseWith(spec.input, value);
  if (!parsed.ok) throw new UsageError(`${file ?? '--json'}: invalid ${workflow} input: ${parsed.message}`);
  return value; // the workflow applies defaults itself, so the history shows what the user gave
}

function uiLink(config: Config, workflowId: string): string | undefined {
  if (!config.temporal.address.startsWith('127.0.0.1') && !config.temporal.address.startsWith('localhost'))
    return undefined;
  return `http://127.0.0.1:${config.devServer.uiPort}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(workflowId)}`;
}

async function watch(client: Client, workflowId: string, intervalMs: number): Promise<void> {
  const tty = process.stdout.isTTY;
  for (;;) {
    const view = await readRunView(client, workflowId);
    const line = renderRunView(view);
    process.stdout.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
    if (view.status !== 'RUNNING') break;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  if (tty) process.stdout.write('\n');
}

/**
 * What can be started, with one JSON object as input: per workflow its description, an example input to copy (into
 * the Web UI's Start Workflow form or a file for --input) and the input's JSON Schema. --json prints one object.
 */
function printWorkflows(names: string[], json: boolean): void {
  const described = names.map((name) => {
    const spec = startable(name);
    return { name, description: spec.description, example: spec.example, inputSchema: inputJsonSchema(spec) };
  });
  if (json) {
    console.log(JSON.stringify(Object.fromEntries(described.map(({ name, ...rest }) => [name, rest])), null, 2));
    return;
  }
  for (const w of described) {
    console.log(`== ${w.name}: ${w.description}`);
    console.log(`example input:\n${JSON.stringify(w.example)}`);
    console.log(`input schema:\n${JSON.stringify(w.inputSchema, null, 2)}\n`);
  }
}

export async function runCli(argv: string[], config: Config = loadConfig()): Promise<number> {
  const args = parseArgs(argv);
  const [command, ...rest] = args.positional;
  if (command === 'workflows') {
    printWorkflows(rest[0] !== undefined ? [rest[0]] : Object.keys(STARTABLE_WORKFLOWS), args.flags.has('json'));
    return 0;
  }
  if (command === 'codeforces-cache') {
    const out = flag(args, 'out');
    if (!out) throw new UsageError('codeforces-cache needs --out FILE');
    const list = flag(args, 'contests');
    const delay = flag(args, 'delay-ms');
    if (delay !== undefined && !/^\d+$/.test(delay))
      throw new UsageError(`--delay-ms must be milliseconds, got ${delay}`);
    const fetched = await fetchCodeforcesCache({
      out,
      contests: list !== undefined ? list.split(',').map((c) => c.trim()) : benchmarkContests(),
      apiBase: flag(args, 'api-base') ?? CODEFORCES_API,
      ...(delay !== undefined ? { delayMs: Number(delay) } : {}),
      log: (line) => console.log(line),
    });
    // a failed contest is recorded with its reason (the Elo skips it); running again retries only those
    console.log(
      `${fetched.file}: ${fetched.fetched.length} contests fetched, ${fetched.kept.length} already there, ${fetched.failed.length} failed`,
    );
    return 0;
  }
  if (command === 'start' && rest[0]) {
    const input = readWorkflowInput(rest[0], args); // validated before any connection is made
    const client = await connectClient(config);
    const workflowId = flag(args, 'id') ?? `${rest[0]}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const handle = await client.workflow.start(rest[0], {
      taskQueue: config.taskQueues.orchestration,
      workflowId,
      args: [input],
      staticSummary: runSummary(rest[0], input),
    });
    console.log(`started ${rest[0]} as ${handle.workflowId}`);
    const link = uiLink(config, handle.workflowId);
    if (link) console.log(`Web UI: ${link}`);
    if (args.flags.has('wait')) {
      await watch(client, handle.workflowId, 1000);
      try {
        console.log(JSON.stringify(await handle.result(), null, 2));
      } catch (err) {
        if (err instanceof WorkflowFailedError) {
          console.error(`run failed: ${err.cause?.message ?? err.message}`);
          return 1;
        }
        throw err;
      }
    }
    await client.connection.close();
    return 0;
  }
  if (command === 'status' && rest[0]) {
    const client = await connectClient(config);
    if (args.flags.has('watch')) await watch(client, rest[0], Number(flag(args, 'interval') ?? 1000));
    else console.log(renderRunView(await readRunView(client, rest[0])));
    await client.connection.close();
    return 0;
  }
  if (command === 'list') {
    const client = await connectClient(config);
    const filter = flag(args, 'filter');
    const query = listFilterQuery([
      ...(args.flags.has('running') ? ["ExecutionStatus='Running'"] : []),
      ...(filter !== undefined ? [filter] : []),
    ]);
    let shown = 0;
    for await (const wf of client.workflow.list({ query })) {
      const state = wf.searchAttributes.PromptcotState?.[0];
      console.log(
        `${wf.workflowId}\t${wf.type}\t${wf.status.name}${state ? ` (${String(state)})` : ''}\t${wf.startTime.toISOString()}`,
      );
      if (++shown >= Number(flag(args, 'limit') ?? 50)) break;
    }
    await client.connection.close();
    return 0;
  }
  if (command === 'search-attributes') {
    const client = await connectClient(config);
    const namespace = config.temporal.namespace;
    const state = args.flags.has('register')
      ? await registerSearchAttributes(client, namespace)
      : await searchAttributeState(client, namespace);
    console.log(`namespace ${namespace}: registered ${state.registered.join(', ') || 'none'}`);
    if (state.missing.length > 0) console.log(`missing (register with --register): ${state.missing.join(', ')}`);
    if (state.wrongType.length > 0)
      console.log(`registered with another type than Keyword: ${state.wrongType.join(', ')}`);
    for (const [name, f] of Object.entries(LIST_FILTERS)) console.log(`filter ${name}: ${f.query}  (${f.means})`);
    await client.connection.close();
    return state.missing.length + state.wrongType.length > 0 ? 1 : 0;
  }
  if (command === 'cancel' && rest[0]) {
    const client = await connectClient(config);
    await client.workflow.getHandle(rest[0]).cancel();
    console.log(`cancellation requested for ${rest[0]}`);
    await client.connection.close();
    return 0;
  }
  if (command === 'signal' && rest[0] && rest[1]) {
    const client = await connectClient(config);
    // an argument, when given, is JSON (a budget raise, a step name in quotes)
    let args: unknown[] = [];
    if (rest[2] !== undefined) {
      try {
        args = [JSON.parse(rest[2])];
      } catch (err) {
        console.error(`the signal's argument must be JSON: ${(err as Error).message}`);
        return 2;
      }
    }
    await client.workflow.getHandle(rest[0]).signal(rest[1], ...args);
    console.log(`signal ${rest[1]} sent to ${rest[0]}`);
    await client.connection.close();
    return 0;
  }
  if (command === 'query' && rest[0] && rest[1]) {
    const client = await connectClient(config);
    console.log(JSON.stringify(await client.workflow.getHandle(rest[0]).query(rest[1]), null, 2));
    await client.connection.close();
    return 0;
  }
  if (command === 'schedule' && rest[0]) {
    const workflow = flag(args, 'workflow');
    if (!workflow) throw new UsageError('schedule needs --workflow NAME');
    const input = readWorkflowInput(workflow, args);
    const every = flag(args, 'every');
    const cron = flag(args, 'cron');
    if (!every && !cron) throw new UsageError('schedule needs --every INTERVAL (e.g. 1d) or --cron "0 3 * * *"');
    const client = await connectClient(config);
    const spec = every ? { intervals: [{ every: every as `${number}d` }] } : { cronExpressions: [cron!] };
    const action = {
      type: 'startWorkflow' as const,
      workflowType: workflow,
      args: [input],
      taskQueue: config.taskQueues.orchestration,
      staticSummary: `${runSummary(workflow, input)} · schedule ${rest[0]}`,
    };
    const note = `created by the promptcot CLI: ${workflow} every ${every ?? cron}`;
    try {
      await client.schedule.create({
        scheduleId: rest[0],
        spec,
        action,
        policies: { overlap: ScheduleOverlapPolicy.SKIP },
        state: { note },
      });
      console.log(`schedule ${rest[0]} created`);
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await client.schedule
        .getHandle(rest[0])
        .update((prev) => ({ ...prev, spec, action, state: { ...prev.state, note } }));
      console.log(`schedule ${rest[0]} updated`);
    }
    await client.connection.close();
    return 0;
  }
  throw new UsageError(
    'usage: cli (start WORKFLOW --input FILE [--id ID] [--wait] | status ID [--watch] | list [--running] [--filter F] | search-attributes [--register] | cancel ID | signal ID NAME [JSON] | query ID NAME | schedule ID --workflow NAME --input FILE --every 1d | workflows [NAME] [--json] | codeforces-cache --out FILE [--contests 1971,1972] [--api-base URL] [--delay-ms MS])',
  );
}
