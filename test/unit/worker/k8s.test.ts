/**
 * workers/k8s, offline: every manifest `kubectl kustomize` renders (the base and the overlay with
 * both components) is valid against the Kubernetes schemas of `kubernetes-models`, and what the
 * manifests tell the worker — variables, probe paths, ports, grace time, memory — is checked
 * against the worker's own settings module, so the two cannot drift.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ACTIVITY_DEFAULTS } from '../../../src/model/step-activities';
import { CONNECTION_VARIABLES, resolveTemporalConnection } from '../../../src/connection/config';
import {
  HealthPaths,
  METRICS_PATH,
  WorkerVariables,
  workerSettingsFromEnv,
} from '../../../src/worker/settings';
import { V8_HEAP_PERCENT } from '../../../src/worker/sizing';
import { mebibytesOf } from '../../../bench/manifest-memory';

const root = join(__dirname, '..', '..', '..');
const kustomizations = ['workers/k8s', 'workers/k8s/overlays/mtls-autoscaled'];

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [key: string]: unknown };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

function render(dir: string): Manifest[] {
  const text = execFileSync('kubectl', ['kustomize', join(root, dir)], { encoding: 'utf8' });
  return parseAllDocuments(text).map((doc) => doc.toJS() as Manifest);
}

/** The kubernetes-models class for a manifest: `apps/v1` → kubernetes-models/apps/v1, `v1` → kubernetes-models/v1. */
function modelOf(manifest: Manifest): new (data: unknown) => { validate(): void } {
  const models = require(`kubernetes-models/${manifest.apiVersion}`) as Record<string, unknown>;
  const model = models[manifest.kind];
  if (typeof model !== 'function') throw new Error(`no model for ${manifest.apiVersion} ${manifest.kind}`);
  return model as new (data: unknown) => { validate(): void };
}

const rendered = Object.fromEntries(kustomizations.map((dir) => [dir, render(dir)]));
const find = (manifests: Manifest[], kind: string): Any => {
  const found = manifests.find((m) => m.kind === kind);
  if (!found) throw new Error(`no ${kind} rendered`);
  return found;
};

describe.each(kustomizations)('%s', (dir) => {
  const manifests = rendered[dir]!;
  const configMap = find(manifests, 'ConfigMap');
  const deployment = find(manifests, 'Deployment');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const variables: Record<string, string> = configMap.data;

  test('every rendered manifest is valid against the Kubernetes schemas', () => {
    expect(manifests.map((m) => m.kind).sort()).toEqual(
      expect.arrayContaining(['ConfigMap', 'Deployment', 'PodDisruptionBudget']),
    );
    for (const manifest of manifests) {
      const Model = modelOf(manifest);
      expect(() => new Model(manifest).validate()).not.toThrow();
    }
  });

  test('the schema check bites: a broken manifest is rejected', () => {
    const Model = modelOf(deployment);
    const broken = structuredClone(deployment);
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'eighty';
    expect(() => new Model(broken).validate()).toThrow(/containerPort must be integer/);
  });

  test('the ConfigMap names only variables the worker reads, with values it accepts', () => {
    const known = new Set<string>([...Object.values(WorkerVariables), ...CONNECTION_VARIABLES]);
    expect(Object.keys(variables).filter((name) => !known.has(name))).toEqual([]);
    expect(() => workerSettingsFromEnv(variables)).not.toThrow();
    expect(() => resolveTemporalConnection({ env: variables })).not.toThrow();
    // So is every variable set on the container itself (the mTLS component's paths).
    for (const { name } of container.env ?? []) expect(known).toContain(name);
  });

  test('probes hit the health server on CONVOY_HEALTH_PORT at the paths it serves', () => {
    const settings = workerSettingsFromEnv(variables);
    const port = (name: string) => container.ports.find((p: Any) => p.name === name)?.containerPort;
    expect(container.readinessProbe.httpGet).toEqual({ path: HealthPaths.readiness, port: 'health' });
    expect(container.livenessProbe.httpGet).toEqual({ path: HealthPaths.liveness, port: 'health' });
    expect(port('health')).toBe(settings.healthPort);
    expect(port('metrics')).toBe(settings.metricsPort);
    expect(deployment.spec.template.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(settings.metricsPort),
      'prometheus.io/path': METRICS_PATH,
    });
    expect(settings.logFormat).toBe('json');
  });

  test('SIGKILL comes only after the drain: the grace period outlasts CONVOY_SHUTDOWN_GRACE_MS and the step kill grace', () => {
    const settings = workerSettingsFromEnv(variables);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
      settings.shutdownGraceMs + ACTIVITY_DEFAULTS.killGraceMs + 5_000,
    );
  });

  test('non-root with a read-only root filesystem; the worker writes only to mounted volumes', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: expect.any(Number) });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    const mounts: string[] = container.volumeMounts.map((m: Any) => m.mountPath);
    const writable = ['/tmp', variables[WorkerVariables.stepStateDir]!];
    for (const path of writable) {
      expect(mounts.some((mount) => path === mount || path.startsWith(`${mount}/`))).toBe(true);
    }
    const volumes = new Map(pod.volumes.map((v: Any) => [v.name, v]));
    for (const mount of container.volumeMounts.filter((m: Any) => !m.readOnly)) {
      expect(volumes.get(mount.name)).toHaveProperty('emptyDir');
    }
  });

  test('memory: request = limit, and at that limit the worker caches a 500-workflow pipeline within its budget', () => {
    const { requests, limits } = container.resources;
    expect(requests.memory).toBe(limits.memory);
    const limitMb = mebibytesOf(limits.memory);
    // What the worker in this pod chooses: the ConfigMap leaves every value to the memory rule.
    const settings = workerSettingsFromEnv(variables, () => ({
      bytes: limitMb * 2 ** 20,
      source: 'the manifest',
    }));
    expect(settings.sizing.chosenBy).toEqual({
      maxCachedWorkflows: 'memory',
      maxConcurrentActivityTaskExecutions: 'memory',
      maxConcurrentWorkflowTaskExecutions: 'memory',
    });
    expect(settings.sizing.fits).toBe(true);
    expect(settings.maxCachedWorkflows).toBeGreaterThanOrEqual(501);
    expect(settings.maxConcurrentActivities).toBeGreaterThanOrEqual(20);
    // The cache lives on V8's heap, which the entry point caps at V8_HEAP_PERCENT of the limit;
    // steps' processes are outside it.
    const workerMb =
      settings.sizing.plannedMb - settings.maxConcurrentActivities * settings.sizing.stepMemoryMb;
    expect(workerMb).toBeLessThanOrEqual((limitMb * V8_HEAP_PERCENT) / 100);
  });

  test('the API key comes from an optional Secret; the PodDisruptionBudget selects the pods', () => {
    expect(container.envFrom).toContainEqual({ secretRef: { name: 'convoy-temporal', optional: true } });
    const pdb = find(manifests, 'PodDisruptionBudget');
    expect(pdb.spec.minAvailable).toBe(1);
    expect(deployment.spec.template.metadata.labels).toMatchObject(pdb.spec.selector.matchLabels);
    expect(deployment.spec.selector.matchLabels).toEqual(pdb.spec.selector.matchLabels);
  });
});

test('the overlay adds autoscaling of the Deployment and mTLS files from a mounted Secret', () => {
  const manifests = rendered['workers/k8s/overlays/mtls-autoscaled']!;
  const deployment = find(manifests, 'Deployment');
  const hpa = find(manifests, 'HorizontalPodAutoscaler');
  expect(hpa.spec.scaleTargetRef).toEqual({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name: deployment.metadata.name,
  });
  expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
  // A worker keeps its cache full by design: memory is no load signal.
  expect(hpa.spec.metrics.map((m: Any) => m.resource.name)).toEqual(['cpu']);
  const container = deployment.spec.template.spec.containers[0];
  const tlsMount = container.volumeMounts.find((m: Any) => m.name === 'temporal-tls');
  expect(tlsMount).toMatchObject({ readOnly: true });
  const paths = Object.fromEntries(container.env.map((e: Any) => [e.name, e.value]));
  for (const name of [
    'TEMPORAL_TLS_CLIENT_CERT_PATH',
    'TEMPORAL_TLS_CLIENT_KEY_PATH',
    'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  ]) {
    expect(paths[name]).toMatch(new RegExp(`^${tlsMount.mountPath}/`));
  }
  const secretVolume = deployment.spec.template.spec.volumes.find((v: Any) => v.name === 'temporal-tls');
  expect(secretVolume.secret.secretName).toBe('convoy-temporal-tls');
  // The base has neither.
  expect(rendered['workers/k8s']!.map((m) => m.kind)).not.toContain('HorizontalPodAutoscaler');
});
