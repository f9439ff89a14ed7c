/**
 * The `convoy` command line (SPEC section 5). Exit codes: see ./exit-codes.ts.
 */
import { Command, CommanderError, Option } from 'commander';
import {
  NotAPipelineError,
  OperatorCommandRejectedError,
  PipelineAlreadyEndedError,
  PipelineAlreadyExistsError,
  PipelineNotFoundError,
  TrainNotFoundError,
} from '../client/errors';
import { formatTrainStatus } from './train-command';
import type { ConvoyClient, PipelineHandle } from '../client/convoy-client';
import { loadPipeline, type LoadedPipeline, type PipelineDefinition } from '../client/source';
import { ConvoyUsageError } from './usage-error';
import { TemporalConfigError, TemporalUnreachableError, connectionFailureOf } from '../connection/errors';
import { connectionFailureMessage } from './connection-message';
import { WorkerSettingsError } from '../worker/settings';
import { CodecSettingsError } from '../codec/settings';
import { ExitCodes, type ExitCode } from './exit-codes';
import {
  describeConnection,
  resolveTemporalConnection,
  type ConnectionOverrides,
} from '../connection/config';
import { PipelineValidationError, formatWarning, parsePipelineText } from '../pipeline-file';
import { interventionActionSchema } from '../model/plan';
import type { PipelineResult } from '../model/result';
import { TemporalCliNotFoundError } from '../dev-server/temporal-cli';
import { packageVersion } from '../package/root';
import { formatPipelineResult } from './format';
import { runValidate } from './validate';
import { progressModeFor, showProgress, type ProgressOutput } from './progress';
import { runReport } from './report';
import { runAttached, runDev, runEmbedded } from './run-command';
import { StatusReader } from './status-command';
import { type ImportOptions, collectList, collectMap, importForCli, runHarnessImport } from './import';

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Where live progress goes (the terminal, when stdout is one); `out`, as lines, when absent. */
  progress?: ProgressOutput;
}

const processIo: CliIo = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  progress: process.stdout,
};

/** Shows a pipeline's progress until it ends (`run`, `status --watch`); returns its last document. */
function followPipeline(
  io: CliIo,
  handle: Parameters<typeof showProgress>[0],
  json: boolean | undefined,
): ReturnType<typeof showProgress> {
  const output = io.progress ?? { write: io.out };
  return showProgress(handle, progressModeFor(output, json), output);
}

class ExitWith extends Error {
  constructor(readonly code: ExitCode) {
    super(`exit ${code}`);
  }
}

/** Parses repeated `--var k=v` options into a record; a malformed one is a usage error. */
function collectVar(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new ConvoyUsageError(`--var ${value}: expected NAME=VALUE`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

function exitCodeFor(doc: PipelineResult): ExitCode {
  return doc.status === 'succeeded' ? ExitCodes.success : ExitCodes.pipelineFailed;
}

/** `--address`, `--namespace`, `--profile`: they win over the environment and the profile. */
function connectionOverrides(program: Command): ConnectionOverrides {
  const { address, namespace, profile } = program.opts<ConnectionOverrides>();
  return {
    ...(address !== undefined ? { address } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
    ...(profile !== undefined ? { profile } : {}),
  };
}

/**
 * Runs `fn` with a client connected as SPEC section 5 says (the flags, then the `temporal` CLI's
 * environment variables and profile), then closes it.
 */
async function withClient<T>(program: Command, fn: (client: ConvoyClient) => Promise<T>): Promise<T> {
  // Loaded on demand: `convoy validate` and `--help` need no Temporal client.
  const { ConvoyClient } = await import('../client/convoy-client');
  const client = await ConvoyClient.connect(connectionOverrides(program));
  try {
    return await fn(client);
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** Builds the commander program; actions throw ExitWith to set the exit code. */
export function buildProgram(io: CliIo = processIo): Command {
  const program = new Command('convoy')
    .description('Harness-style deployment barriers on Temporal')
    .version(packageVersion())
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError()
    .option(
      '--address <host:port>',
      'Temporal frontend (default: TEMPORAL_ADDRESS, the profile, localhost:7233)',
    )
    .option('--namespace <name>', 'Temporal namespace (default: TEMPORAL_NAMESPACE, the profile, default)')
    .option(
      '--profile <name>',
      'profile of the Temporal CLI config file (TEMPORAL_CONFIG_FILE; default: TEMPORAL_PROFILE, default)',
    );

  program
    .command('validate')
    .argument('<file>', 'pipeline file (YAML or JSON)')
    .option('--var <name=value>', 'override a variable (repeatable)', collectVar, {})
    .description('validate a pipeline file without running anything')
    .action((file: string, opts: { var: Record<string, string> }) => {
      throw new ExitWith(runValidate(file, { vars: opts.var }, io) as ExitCode);
    });

  program
    .command('import')
    .description('import pipelines from other tools')
    .command('harness')
    .argument(
      '<files...>',
      'Harness NextGen pipeline YAML, or a FirstGen pipeline and its workflow YAML files',
    )
    .option('-o, --output <file>', 'write the Convoy pipeline file here (stdout when absent)')
    .option(
      '--map <type=command>',
      'run Harness steps of this type as this shell command (repeatable)',
      collectMap,
      {},
    )
    .option('--map-file <file>', 'a YAML file of STEP_TYPE: COMMAND mappings (repeatable)', collectList, [])
    .description('write a Convoy pipeline file for a Harness pipeline')
    .action((files: string[], opts: ImportOptions & { output?: string }) => {
      throw new ExitWith(runHarnessImport(files, opts, io) as ExitCode);
    });

  program
    .command('run')
    .argument('<files...>', 'pipeline file (YAML or JSON); with --from harness, the Harness files')
    .option('--var <name=value>', 'override a variable (repeatable)', collectVar, {})
    .option('--id <id>', 'pipeline ID (the pipeline workflow ID); generated when absent')
    .option('--embedded', 'start a local Temporal dev server and worker for this run')
    .option('--json', 'print exactly one JSON document on stdout')
    .option('--no-wait', 'start the pipeline and return at once')
    .option('--allow-reuse', 'reuse the --id of a pipeline that has ended')
    .addOption(
      new Option('--from <tool>', 'import the pipeline from another tool first').choices(['harness']),
    )
    .option(
      '--map <type=command>',
      'with --from harness: run Harness steps of this type as this command',
      collectMap,
      {},
    )
    .option(
      '--map-file <file>',
      'with --from harness: a YAML file of STEP_TYPE: COMMAND mappings',
      collectList,
      [],
    )
    .description('start a pipeline and wait for its result')
    .action(async (files: string[], opts: RunOptions) => {
      // Every problem is reported before anything connects (a PipelineValidationError: exit 2).
      const pipeline = loadForRun(files, opts, io);
      const start = { id: opts.id, variables: opts.var, allowReuse: opts.allowReuse };
      const report = (doc: PipelineResult): ExitCode => {
        printResult(io, doc, opts.json);
        return exitCodeFor(doc);
      };
      // The live view (or timestamped lines) until the pipeline ends; --json prints only the end.
      const follow = opts.json ? undefined : (handle: PipelineHandle) => followPipeline(io, handle, false);
      if (opts.embedded) {
        if (!opts.wait) {
          throw new ConvoyUsageError(
            '--no-wait cannot be combined with --embedded: the embedded server stops when the command ends',
          );
        }
        throw new ExitWith(await runEmbedded(pipeline, start, io, report, follow));
      }
      await withClient(program, async (client) => {
        if (!opts.wait) {
          const handle = await client.start(pipeline, start);
          if (opts.json) io.out(JSON.stringify({ pipelineId: handle.pipelineId, status: 'running' }));
          else io.out(handle.pipelineId);
          throw new ExitWith(ExitCodes.success);
        }
        const address = describeConnection(resolveTemporalConnection(connectionOverrides(program)));
        throw new ExitWith(
          await runAttached(client, pipeline, start, { ...io, json: opts.json, address }, report, follow),
        );
      });
    });

  program
    .command('status')
    .argument('<id>', 'pipeline ID')
    .option('--json', 'print the JSON document')
    .option('--watch', 'follow the pipeline until it ends (with --json: one document per line, per change)')
    .description("live state from the pipeline workflow's status query")
    .action(async (id: string, opts: { json?: boolean; watch?: boolean }) => {
      await withClient(program, async (client) => {
        // The first read says when no worker can answer, or that the ID is not a pipeline's.
        const reader = new StatusReader(client, id, io.err);
        try {
          const first = await reader.read();
          const doc = opts.watch ? await followPipeline(io, client.getHandle(id), opts.json) : first;
          if (doc === undefined) return;
          // Watching with --json, the last line printed is already the final document.
          if (!(opts.watch && opts.json)) printResult(io, doc, opts.json);
          throw new ExitWith(doc.status === 'running' ? ExitCodes.success : exitCodeFor(doc));
        } finally {
          reader.stop();
        }
      });
    });

  program
    .command('report')
    .argument('<id>', 'pipeline ID')
    .requiredOption('--html <file>', 'write a self-contained HTML report with an SVG timeline here')
    .description('write a report of a pipeline (running or ended): its timeline as one HTML file')
    .action(async (id: string, opts: { html: string }) => {
      await withClient(program, async (client) => {
        io.out(await runReport(await client.getHandle(id).status(), opts.html));
      });
    });

  program
    .command('intervene')
    .argument('<id>', 'pipeline ID')
    .argument('<workflow>', 'workflow waiting for manual intervention')
    .addOption(
      new Option('--action <action>', 'the decision')
        .choices(interventionActionSchema.options)
        .makeOptionMandatory(),
    )
    .option('--step <step>', 'the step it waits at (refused if it waits at another)')
    .description('give a manual-intervention decision (sent to the workflow itself)')
    .action(
      async (
        id: string,
        workflow: string,
        opts: { action: (typeof interventionActionSchema.options)[number]; step?: string },
      ) => {
        await withClient(program, async (client) =>
          io.out(
            await client
              .getHandle(id)
              .intervene({ workflow, action: opts.action, ...(opts.step ? { step: opts.step } : {}) }),
          ),
        );
      },
    );

  const barrier = program.command('barrier').description('operator overrides of a standing barrier');
  for (const command of ['release', 'break'] as const) {
    barrier
      .command(command)
      .argument('<id>', 'pipeline ID')
      .argument('<stage>', 'stage name')
      .argument('<identifier>', 'barrier identifier')
      .option('--reason <reason>', 'why (recorded on the barrier)')
      .description(
        command === 'release'
          ? 'let waiting and later arrivals pass'
          : 'fail the barrier for every participant',
      )
      .action(async (id: string, stage: string, identifier: string, opts: { reason?: string }) => {
        await withClient(program, async (client) => {
          const pipeline = client.getHandle(id);
          const barrier = { stage, identifier, reason: opts.reason };
          io.out(
            await (command === 'release' ? pipeline.releaseBarrier(barrier) : pipeline.breakBarrier(barrier)),
          );
        });
      });
  }

  const train = program
    .command('train')
    .description('release trains: barriers shared by independently started pipelines');
  train
    .command('status')
    .argument('<name>', 'train name')
    .argument('<identifier>', 'barrier identifier')
    .option('--json', 'print the JSON document')
    .description("the train's newest run: who has arrived, who is missing, time left")
    .action(async (name: string, identifier: string, opts: { json?: boolean }) => {
      await withClient(program, async (client) => {
        const status = await client.getTrain(name, identifier).status();
        io.out(opts.json ? JSON.stringify(status, null, 2) : formatTrainStatus(status));
      });
    });
  for (const command of ['release', 'break'] as const) {
    train
      .command(command)
      .argument('<name>', 'train name')
      .argument('<identifier>', 'barrier identifier')
      .option('--reason <reason>', 'why (recorded on the train)')
      .description(
        command === 'release'
          ? 'let every waiting pipeline of the standing train pass'
          : 'fail the train for every waiting pipeline',
      )
      .action(async (name: string, identifier: string, opts: { reason?: string }) => {
        await withClient(program, async (client) => {
          const handle = client.getTrain(name, identifier);
          io.out(await (command === 'release' ? handle.release(opts.reason) : handle.break(opts.reason)));
        });
      });
  }

  program
    .command('cancel')
    .argument('<id>', 'pipeline ID')
    .description('abort a pipeline (standing barriers break with reason "pipeline aborted")')
    .action(async (id: string) => {
      await withClient(program, async (client) => {
        await client.getHandle(id).cancel();
        io.out(`abort requested for ${id}`);
      });
    });

  program
    .command('worker')
    .description(
      'run a Convoy worker: Temporal as the temporal CLI finds it, TEMPORAL_TASK_QUEUE, CONVOY_* settings (README)',
    )
    .action(async () => {
      const { runWorkerFromEnv } = await import('../worker/run-worker');
      await runWorkerFromEnv(connectionOverrides(program));
    });

  program
    .command('doctor')
    .option(
      '--task-queue <name>',
      'the task queue Convoy workers poll (default: TEMPORAL_TASK_QUEUE, convoy)',
    )
    .description(
      'check the Temporal service for Convoy: connection, version, namespace, workers, search attributes, timer precision',
    )
    .action(async (opts: { taskQueue?: string }) => {
      const [{ runDoctor }, { taskQueueFromEnv }] = await Promise.all([
        import('./doctor'),
        import('../connection/config'),
      ]);
      const report = await runDoctor({
        ...connectionOverrides(program),
        taskQueue: opts.taskQueue ?? taskQueueFromEnv(),
      });
      io.out(report.text);
      throw new ExitWith(report.ok ? ExitCodes.success : ExitCodes.problemsFound);
    });

  program
    .command('codec-server')
    .option('--port <port>', 'port to listen on', parsePort, 8888)
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option(
      '--cors-origin <origin>',
      'a browser origin allowed to call it, e.g. the Web UI http://localhost:8233 (repeatable; * for any)',
      collectList,
      [],
    )
    .description(
      'serve /encode and /decode for the Temporal Web UI: large payloads compressed, and with keys ' +
        '(CONVOY_CODEC_KEY, CONVOY_CODEC_KEY_ID, CONVOY_CODEC_OLD_KEYS) encrypted; optional CONVOY_CODEC_SERVER_TOKEN',
    )
    .action(async (opts: { port: number; host: string; corsOrigin: string[] }) => {
      const { chainCodecs, encryptionCodecFromEnv, payloadCodecsFromEnv } = await import('../codec/settings');
      const { startCodecServer } = await import('../codec/codec-server');
      const encryption = encryptionCodecFromEnv();
      const token = process.env.CONVOY_CODEC_SERVER_TOKEN || undefined;
      const running = await startCodecServer({
        codec: chainCodecs(payloadCodecsFromEnv()),
        port: opts.port,
        host: opts.host,
        corsOrigins: opts.corsOrigin,
        token,
        log: io.err,
      });
      const serves = encryption ? `key ${encryption.keyId}` : 'compression only: no CONVOY_CODEC_KEY';
      io.out(`codec server at ${running.url} (${serves}${token ? ', token required' : ''})`);
      io.out(
        `Web UI: Settings > Data Encoder > ${running.url}, or temporal server start-dev --ui-codec-endpoint ${running.url}`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await running.close();
    });

  program
    .command('dev')
    .option('--port <port>', 'gRPC port', parsePort, 7233)
    .option('--ui-port <port>', 'Web UI port', parsePort, 8233)
    .option('--db-file <file>', 'keep state in this SQLite file (in memory when absent)')
    .description('run an embedded Temporal dev server and a worker until Ctrl-C')
    .action((opts: { port: number; uiPort: number; dbFile?: string }) => runDev(opts, io));

  return program;
}

/** Options of `convoy run`. */
interface RunOptions extends ImportOptions {
  var: Record<string, string>;
  id?: string;
  embedded?: boolean;
  json?: boolean;
  wait: boolean;
  allowReuse?: boolean;
  from?: 'harness';
}

/**
 * The pipeline `convoy run` starts: the pipeline file, or, with `--from harness`, the Convoy
 * pipeline imported from the Harness files. Invalid input throws (exit 2) before anything
 * connects or starts; warnings are printed here (an import printed its own at Harness paths).
 */
function loadForRun(files: readonly string[], opts: RunOptions, io: CliIo): LoadedPipeline {
  const mapsGiven = Object.keys(opts.map).length > 0 || opts.mapFile.length > 0;
  if (opts.from === undefined && mapsGiven)
    throw new ConvoyUsageError('--map and --map-file go with --from harness');
  if (opts.from === undefined && files.length !== 1) {
    throw new ConvoyUsageError(
      `run takes one pipeline file (got ${files.length}); several go with --from harness`,
    );
  }
  const file = files[0]!;
  const options = { variables: opts.var, pipelineId: opts.id };
  if (opts.from !== 'harness') {
    const pipeline = loadPipeline(file, options);
    for (const warning of pipeline.warnings) io.err(formatWarning(file, warning));
    return pipeline;
  }
  const imported = importForCli(files, opts, io);
  if ('exitCode' in imported) throw new ExitWith(imported.exitCode as ExitCode);
  const source = `${file} (imported from Harness)`;
  const parsed = parsePipelineText(imported.result.text, 'yaml');
  if (!parsed.ok) throw new PipelineValidationError(source, parsed.issues);
  try {
    return { ...loadPipeline(parsed.data as PipelineDefinition, options), source };
  } catch (error) {
    if (error instanceof PipelineValidationError)
      throw new PipelineValidationError(source, error.issues, error.warnings);
    throw error;
  }
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new ConvoyUsageError(`invalid port ${value}`);
  return port;
}

function printResult(io: CliIo, doc: PipelineResult, json: boolean | undefined): void {
  if (json) io.out(JSON.stringify(doc, null, 2));
  else io.out(formatPipelineResult(doc, io.progress?.isTTY ? (io.progress.columns ?? 80) : undefined));
}

/** Runs the CLI and returns the exit code (never throws). */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ExitCodes.success;
  } catch (error) {
    if (error instanceof ExitWith) return error.code;
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCodes.success : ExitCodes.invalidInput;
    }
    if (error instanceof PipelineValidationError) {
      for (const line of error.lines) io.err(line);
      return ExitCodes.invalidInput;
    }
    if (error instanceof PipelineAlreadyExistsError) {
      io.err(`convoy: ${error.message}${error.running ? '; choose another --id' : ''}`);
      return ExitCodes.invalidInput;
    }
    if (error instanceof PipelineAlreadyEndedError) {
      io.err(`convoy: ${error.message}`);
      return ExitCodes.pipelineFailed;
    }
    if (
      error instanceof ConvoyUsageError ||
      error instanceof WorkerSettingsError ||
      error instanceof TemporalConfigError ||
      error instanceof CodecSettingsError ||
      error instanceof PipelineNotFoundError ||
      error instanceof NotAPipelineError ||
      error instanceof TrainNotFoundError ||
      error instanceof OperatorCommandRejectedError
    ) {
      io.err(`convoy: ${error.message}`);
      return ExitCodes.invalidInput;
    }
    if (error instanceof TemporalUnreachableError || error instanceof TemporalCliNotFoundError) {
      io.err(`convoy: ${error.message}`);
      return ExitCodes.infrastructure;
    }
    const connectionFailure = connectionFailureOf(error);
    if (connectionFailure) {
      io.err(`convoy: ${await connectionFailureMessage(configuredAddress(argv), connectionFailure)}`);
      return ExitCodes.infrastructure;
    }
    io.err(`convoy: ${error instanceof Error ? error.message : String(error)}`);
    return ExitCodes.infrastructure;
  }
}

/** The address the command connected to (`--address`, else as the `temporal` CLI finds it), for messages. */
function configuredAddress(argv: string[]): string {
  const flag = argv.findIndex((arg) => arg === '--address' || arg.startsWith('--address='));
  if (flag >= 0) return argv[flag]!.includes('=') ? argv[flag]!.split('=')[1]! : (argv[flag + 1] ?? '');
  try {
    return resolveTemporalConnection({}).address;
  } catch {
    return 'the configured address';
  }
}

/** Entry point of `bin/convoy`. */
export function main(argv: string[] = process.argv.slice(2)): void {
  runCli(argv).then(
    (code) => {
      process.exitCode = code;
      // Temporal's native runtime may keep handles open; a finished command must not hang.
      setTimeout(() => process.exit(code), 50).unref();
    },
    () => process.exit(ExitCodes.infrastructure),
  );
}
