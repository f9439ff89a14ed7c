/**
 * `convoy doctor`: is this Temporal service ready for Convoy? It prints the resolved connection
 * (no secrets), the server's version, the namespace, whether workers poll the task queue, whether
 * Convoy's search attributes exist and how late the server fires a 100 ms timer — measured, by a
 * tiny workflow on an ephemeral worker of its own. Exit 0 when all is well, 1 naming the fix for
 * each problem.
 */
import { ConvoySearchAttributes } from '../model/visibility';
import { Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import {
  connectionOptions,
  describeConnection,
  redactSecrets,
  resolveTemporalConnection,
  type ConnectionOverrides,
  type TemporalConnection,
} from '../connection/config';
import { installQuietRuntime } from '../worker/worker';
import { measureTimerLateness, median } from '../worker/timer-probe';

/** One line of the report; a problem carries the fix. */
export interface DoctorCheck {
  readonly label: string;
  readonly detail: string;
  readonly problem?: { readonly fix: string };
}

/**
 * Convoy's search attributes and their types as `temporal operator search-attribute create`
 * spells them, from their one definition (src/model/visibility.ts).
 */
export const CONVOY_SEARCH_ATTRIBUTES = Object.values(ConvoySearchAttributes);

/** The timer the probe sleeps. */
export const PROBE_TIMER_MS = 100;
/** A 100 ms timer firing later than this means the server still has the 1 s default time shift. */
export const TIMER_LATENESS_LIMIT_MS = 300;

/** The dynamic config fix, for self-hosted servers and the official Helm chart. */
const TIMER_FIX =
  'set history.timerProcessorMaxTimeShift to 10ms in the server dynamic config ' +
  '(config/temporal/dynamic-config.yaml is what Convoy ships; Helm chart: ' +
  'server.dynamicConfig."history.timerProcessorMaxTimeShift" = [{value: 10ms}], see workers/k8s/README.md); ' +
  'on Temporal Cloud ask support, or keep barrier timeouts above a few seconds';

/** The report's text: one line per check, then each problem's fix, then the verdict. */
export function formatDoctorReport(checks: readonly DoctorCheck[]): string {
  const width = Math.max(...checks.map((c) => c.label.length));
  const lines = checks.map((c) => `${c.problem ? '✗' : '✓'} ${c.label.padEnd(width)}  ${c.detail}`);
  const problems = checks.filter((c) => c.problem);
  if (problems.length === 0)
    return [...lines, '', 'Convoy is ready to run on this Temporal service.'].join('\n');
  return [
    ...lines,
    '',
    `${problems.length} problem${problems.length === 1 ? '' : 's'}:`,
    ...problems.map((c) => `- ${c.label}: ${c.problem!.fix}`),
  ].join('\n');
}

/** Options of {@link runDoctor}. */
export interface DoctorOptions extends ConnectionOverrides {
  taskQueue: string;
}

/** Runs every check; resolves the report and whether all is well. Never throws for a check. */
export async function runDoctor(options: DoctorOptions): Promise<{ ok: boolean; text: string }> {
  const config = resolveTemporalConnection(options);
  const checks: DoctorCheck[] = [{ label: 'connection', detail: describeConnection(config) }];
  const fail = (error: unknown) =>
    redactSecrets(error instanceof Error ? error.message : String(error), config);

  let connection: Connection;
  try {
    connection = await Connection.connect({ ...connectionOptions(config), connectTimeout: '5s' });
    await connection.workflowService.getSystemInfo({});
  } catch (error) {
    checks.push({
      label: 'server',
      detail: `unreachable: ${fail(error)}`,
      problem: {
        fix:
          'check TEMPORAL_ADDRESS (or --address / the profile), TLS and API key settings: ' +
          '`temporal operator cluster health` with the same environment must succeed',
      },
    });
    return { ok: false, text: formatDoctorReport(checks) };
  }
  try {
    checks.push(await serverCheck(connection));
    const namespace = await namespaceCheck(connection, config.namespace);
    checks.push(namespace);
    if (!namespace.problem) {
      checks.push(await pollersCheck(connection, config.namespace, options.taskQueue));
      checks.push(
        await searchAttributesCheck(connection, config.namespace).catch((error) =>
          unchecked('search attributes', fail(error)),
        ),
      );
      checks.push(await timerCheck(config).catch((error) => unchecked('timer precision', fail(error))));
    }
  } finally {
    await connection.close().catch(() => undefined);
  }
  return { ok: checks.every((c) => !c.problem), text: formatDoctorReport(checks) };
}

function unchecked(label: string, reason: string): DoctorCheck {
  return {
    label,
    detail: `could not check: ${reason}`,
    problem: { fix: 'the connection lacks the permission, or the server refused; see the reason above' },
  };
}

async function serverCheck(connection: Connection): Promise<DoctorCheck> {
  try {
    const info = await connection.workflowService.getClusterInfo({});
    const stores = [info.persistenceStore, info.visibilityStore].filter(Boolean).join(' / ');
    return {
      label: 'server',
      detail: `Temporal ${info.serverVersion}, cluster ${info.clusterName}${stores ? `, ${stores}` : ''}`,
    };
  } catch {
    // Temporal Cloud answers GetSystemInfo but not GetClusterInfo.
    const info = await connection.workflowService.getSystemInfo({});
    return { label: 'server', detail: `Temporal ${info.serverVersion || '(version not reported)'}` };
  }
}

async function namespaceCheck(connection: Connection, namespace: string): Promise<DoctorCheck> {
  try {
    const described = await connection.workflowService.describeNamespace({ namespace });
    const retention = described.config?.workflowExecutionRetentionTtl;
    const days = retention ? `, retention ${Math.round(tsToMs(retention) / 86_400_000)} d` : '';
    return { label: 'namespace', detail: `${namespace}${days}` };
  } catch (error) {
    return {
      label: 'namespace',
      detail: `${namespace}: ${error instanceof Error ? error.message : String(error)}`,
      problem: {
        fix: `create it (\`temporal operator namespace create --namespace ${namespace}\`) or set TEMPORAL_NAMESPACE`,
      },
    };
  }
}

async function pollersCheck(
  connection: Connection,
  namespace: string,
  taskQueue: string,
): Promise<DoctorCheck> {
  const count = async (type: temporal.api.enums.v1.TaskQueueType) =>
    (
      await connection.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: type,
      })
    ).pollers?.length ?? 0;
  const TaskQueueType = temporal.api.enums.v1.TaskQueueType;
  const [workflowPollers, activityPollers] = await Promise.all([
    count(TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
    count(TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
  ]);
  const detail = `${taskQueue}: ${workflowPollers} workflow and ${activityPollers} activity pollers`;
  if (workflowPollers > 0 && activityPollers > 0) return { label: 'workers', detail };
  return {
    label: 'workers',
    detail,
    problem: {
      fix:
        `no Convoy worker polls task queue ${taskQueue}: run \`convoy worker\` with TEMPORAL_TASK_QUEUE=${taskQueue} ` +
        '(or deploy workers/k8s), or point TEMPORAL_TASK_QUEUE at the queue your workers poll',
    },
  };
}

async function searchAttributesCheck(connection: Connection, namespace: string): Promise<DoctorCheck> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const registered = new Set(Object.keys(customAttributes ?? {}));
  const missing = CONVOY_SEARCH_ATTRIBUTES.filter((a) => !registered.has(a.name));
  if (missing.length === 0) {
    return { label: 'search attributes', detail: CONVOY_SEARCH_ATTRIBUTES.map((a) => a.name).join(', ') };
  }
  return {
    label: 'search attributes',
    detail: `missing ${missing.map((a) => a.name).join(', ')}`,
    problem: {
      fix:
        'register them (the Web UI filters pipelines by them): ' +
        missing
          .map(
            (a) =>
              `\`temporal operator search-attribute create --namespace ${namespace} --name ${a.name} --type ${a.cliType}\``,
          )
          .join('; '),
    },
  };
}

async function timerCheck(config: TemporalConnection): Promise<DoctorCheck> {
  installQuietRuntime('ERROR');
  const lateness = await measureTimerLateness(config, PROBE_TIMER_MS);
  const late = Math.round(median(lateness));
  const detail =
    `a ${PROBE_TIMER_MS} ms timer fires ${late} ms late ` +
    `(median of ${lateness.length}: ${lateness.map((l) => Math.round(l)).join(', ')} ms)`;
  if (late <= TIMER_LATENESS_LIMIT_MS) return { label: 'timer precision', detail };
  return { label: 'timer precision', detail, problem: { fix: TIMER_FIX } };
}
