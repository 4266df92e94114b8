import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { TriggerAuthentication, ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { READY_CHECK_MS } from '../../src/api/server.ts';
import { parseBackendUrls } from '../../src/shared/backend/backend-urls.ts';
import { ENGINE_RENDER_QUEUE } from '../../src/engine/render/render-queue.ts';
import { engineRedisPrefixOf, loadConfig } from '../../src/shared/infra/config.ts';
import { metrics } from '../../src/shared/infra/metrics/registry.ts';
import { bullPriority, createRenderQueue, RENDER_QUEUE, waitListKey } from '../../src/shared/infra/queues.ts';
import { createRedis } from '../../src/shared/infra/redis.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { settingNames } from './settings-names.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DIR = path.join(ROOT, 'deploy/kubernetes');
const run = promisify(execFile);

/** Where the engine keeps its render queue in Redis, as the engine itself works it out from these settings. */
const enginePrefixOf = (settings: Record<string, string>) => engineRedisPrefixOf(loadConfig(settings, { servesApi: false }));

interface Manifest {
  file: string;
  object: Record<string, any>;
}

function yamlFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(folder, entry.name);
    return entry.isDirectory() ? yamlFiles(full) : entry.name.endsWith('.yaml') ? [full] : [];
  });
}

const files = yamlFiles(DIR);
const kustomizations = files.filter((file) => path.basename(file) === 'kustomization.yaml');
const manifests: Manifest[] = files
  .filter((file) => !kustomizations.includes(file))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(file, 'utf8')).map((document) => {
      if (document.errors.length > 0) throw new Error(`${path.relative(ROOT, file)}: ${document.errors[0]?.message}`);
      return { file: path.relative(DIR, file), object: document.toJS() as Record<string, any> };
    }),
  );

/** The schema model of each kind the manifests use: kubernetes-models (Kubernetes' OpenAPI) and @kubernetes-models/keda (KEDA's CRDs). */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
};

const ofKind = (kind: string) => manifests.filter(({ object }) => object.kind === kind).map(({ object }) => object);
const named = (kind: string, name: string) => ofKind(kind).find((object) => object.metadata?.name === name);
const deployments = ofKind('Deployment');
const i2vDeployment = (component: string) => {
  const deployment = named('Deployment', component);
  if (!deployment) throw new Error(`no Deployment "${component}"`);
  return deployment;
};
const containerOf = (workload: Record<string, any>) => workload.spec.template.spec.containers[0] as Record<string, any>;
const configMap = named('ConfigMap', 'i2v-config')?.data as Record<string, string>;
const secrets = ofKind('Secret');
const secretOf = (name: string) => secrets.find((secret) => secret.metadata.name === name);

/** What a Deployment's container sees: its ConfigMap, its Secret (read later, so it wins), then its own env. */
function environmentOf(deployment: Record<string, any>, secretValues: Record<string, string> = {}): Record<string, string> {
  const container = containerOf(deployment);
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, named('ConfigMap', source.configMapRef.name)?.data);
    if (source.secretRef) Object.assign(env, secretOf(source.secretRef.name)?.stringData, secretValues);
  }
  for (const { name, value } of container.env ?? []) env[name] = value;
  return env;
}

const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

function probesOf(container: Record<string, any>): [string, Record<string, any>][] {
  return (['readinessProbe', 'livenessProbe', 'startupProbe'] as const).flatMap((kind) => (container[kind] ? [[kind, container[kind]] as [string, Record<string, any>]] : []));
}

const portNamed = (container: Record<string, any>, port: string | number) =>
  (container.ports as { name?: string; containerPort: number }[]).find((p) => p.name === port || p.containerPort === port);

describe('deploy/kubernetes: the schemas', () => {
  it('has manifests for the api, the worker and the engine', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['api', 'engine', 'worker']);
  });

  it.each(manifests.map((manifest) => [`${manifest.file}: ${manifest.object.kind} ${manifest.object.metadata?.name}`, manifest] as const))(
    '%s is valid against its schema',
    (_title, { object }) => {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      expect(Model, `a schema model for ${object.apiVersion} ${object.kind}`).toBeDefined();
      expect(() => new (Model as NonNullable<typeof Model>)(object).validate()).not.toThrow();
    },
  );

  it('lists every manifest in a kustomization, except the Secret template, and only files that exist', () => {
    const listed = kustomizations.flatMap((file) => {
      const kustomization = parse(readFileSync(file, 'utf8')) as { resources: string[]; namespace?: string };
      expect(kustomization.namespace).toBe('i2v');
      return kustomization.resources.map((resource) => path.relative(DIR, path.resolve(path.dirname(file), resource)));
    });
    for (const resource of listed) expect(existsSync(path.join(DIR, resource)), resource).toBe(true);
    const manifestFiles = [...new Set(manifests.map((manifest) => manifest.file))];
    expect(manifestFiles.filter((file) => !listed.includes(file)).sort()).toEqual(['secret.example.yaml']);
  });

  it('runs the image the kustomization names, with a command the image has', () => {
    const images = (parse(readFileSync(path.join(DIR, 'kustomization.yaml'), 'utf8')) as { images: { name: string }[] }).images.map((image) => image.name);
    for (const deployment of deployments) {
      const container = containerOf(deployment);
      expect(images).toContain(container.image);
      expect(container.args).toEqual([deployment.metadata.name]);
    }
  });
});

describe('deploy/kubernetes: what a user would hit', () => {
  it('sets only real settings, in the ConfigMap, the Secret and the containers', () => {
    const settings = settingNames();
    const names = [
      ...Object.keys(configMap),
      ...Object.keys(secretOf('i2v-secrets')?.stringData ?? {}),
      ...deployments.flatMap((deployment) => (containerOf(deployment).env ?? []).map((entry: { name: string }) => entry.name)),
    ];
    expect(names.filter((name) => !settings.has(name))).toEqual([]);
  });

  it('holds no secret values: the Secret is a template, and nothing secret is in the ConfigMap', () => {
    for (const secret of secrets) expect(Object.values(secret.stringData ?? {}).filter((value) => value !== '')).toEqual([]);
    expect(Object.keys(configMap).filter((name) => /KEY|TOKEN|SECRET|PASSWORD/.test(name))).toEqual([]);
  });

  it('starts each process with these settings once the Secret is filled in, and not before', () => {
    const filled = { API_KEYS: 'shop=a-long-random-key', ADMIN_KEY: 'an-admin-key-of-24-chars', NEMO_TOKEN: 'a-long-random-token' };
    for (const deployment of deployments) {
      const servesApi = deployment.metadata.name === 'api';
      expect(() => loadConfig(environmentOf(deployment, filled), { servesApi })).not.toThrow();
    }
    expect(() => loadConfig(environmentOf(i2vDeployment('api')), { servesApi: true })).toThrow(/API_KEYS/);
    expect(() => loadConfig(environmentOf(i2vDeployment('worker')), { servesApi: false })).toThrow(/METRICS_PORT/);
  });

  it('turns off service links, or the engine Service would set ENGINE_PORT=tcp://… in every pod', () => {
    expect(named('Service', 'engine')).toBeDefined();
    for (const deployment of deployments) expect(deployment.spec.template.spec.enableServiceLinks, deployment.metadata.name).toBe(false);
  });

  it('gives running jobs their SHUTDOWN_GRACE_S before a pod is killed', () => {
    for (const deployment of deployments) {
      const grace = Number(environmentOf(deployment).SHUTDOWN_GRACE_S ?? 30);
      expect(deployment.spec.template.spec.terminationGracePeriodSeconds, deployment.metadata.name).toBeGreaterThan(grace);
    }
  });

  it('listens where the settings say: PORT for the api, ENGINE_PORT for the engine, METRICS_PORT for the worker', () => {
    const port = (component: string, setting: string) => {
      const deployment = i2vDeployment(component);
      const wanted = Number(environmentOf(deployment)[setting]);
      expect((containerOf(deployment).ports as { containerPort: number }[]).map((p) => p.containerPort), `${component} ${setting}`).toContain(wanted);
    };
    port('api', 'PORT');
    port('engine', 'ENGINE_PORT');
    port('worker', 'METRICS_PORT');
  });

  it('has Services (and disruption budgets) that select one Deployment each, on a port its container has', () => {
    for (const service of ofKind('Service').filter((s) => s.metadata.name !== 'redis')) {
      const selected = deployments.filter((deployment) => matches(service.spec.selector, deployment.spec.template.metadata.labels));
      expect(selected.map((d) => d.metadata.name), `Service ${service.metadata.name}`).toEqual([service.metadata.name]);
      for (const { targetPort } of service.spec.ports) expect(portNamed(containerOf(selected[0] as Record<string, any>), targetPort), `${service.metadata.name} → ${targetPort}`).toBeDefined();
    }
    for (const workload of [...deployments, ...ofKind('StatefulSet')]) expect(matches(workload.spec.selector.matchLabels, workload.spec.template.metadata.labels), workload.metadata.name).toBe(true);
    for (const budget of ofKind('PodDisruptionBudget')) {
      const selected = deployments.filter((deployment) => matches(budget.spec.selector.matchLabels, deployment.spec.template.metadata.labels));
      expect(selected.map((d) => d.metadata.name), `PodDisruptionBudget ${budget.metadata.name}`).toEqual([budget.metadata.name]);
    }
  });

  it('points the workers and the API at the engine Service (BACKEND_URL)', () => {
    const { urls, problems } = parseBackendUrls(configMap.BACKEND_URL as string);
    expect(problems).toEqual([]);
    expect(urls.length).toBeGreaterThan(0);
    for (const backend of urls) {
      const service = named('Service', backend.hostname);
      expect(service, `a Service named ${backend.hostname}`).toBeDefined();
      expect(service?.spec.ports.map((p: { port: number }) => p.port)).toContain(Number(backend.port));
    }
  });

  it('mounts shared ReadWriteMany volumes at STORAGE_DIR (api, workers) and ENGINE_DIR (every engine)', () => {
    const mountedClaim = (component: string, setting: string) => {
      const deployment = i2vDeployment(component);
      const at = environmentOf(deployment)[setting];
      const mount = (containerOf(deployment).volumeMounts as { name: string; mountPath: string }[]).find((m) => m.mountPath === at);
      expect(mount, `${component}: a volume at ${setting}=${at}`).toBeDefined();
      const volume = (deployment.spec.template.spec.volumes as { name: string; persistentVolumeClaim?: { claimName: string } }[]).find((v) => v.name === mount?.name);
      const claim = named('PersistentVolumeClaim', volume?.persistentVolumeClaim?.claimName ?? '');
      expect(claim?.spec.accessModes, `${component}: the claim of ${setting}`).toEqual(['ReadWriteMany']);
      return claim?.metadata.name;
    };
    expect(configMap.STORAGE).toBe('local');
    expect(mountedClaim('api', 'STORAGE_DIR')).toBe(mountedClaim('worker', 'STORAGE_DIR'));
    expect(mountedClaim('engine', 'ENGINE_DIR')).not.toBe(mountedClaim('api', 'STORAGE_DIR'));
  });

  it('waits longer on a probe than the check it makes takes', () => {
    const healthcheckTimeoutMs = Number(/const TIMEOUT_MS = (\d+);/.exec(readFileSync(path.join(ROOT, 'docker/healthcheck.mjs'), 'utf8'))?.[1]);
    for (const deployment of deployments) {
      for (const [kind, probe] of probesOf(containerOf(deployment))) {
        const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
        if (probe.exec) expect(timeoutMs, `${deployment.metadata.name} ${kind}`).toBeGreaterThan(healthcheckTimeoutMs);
        if (probe.httpGet?.path === '/readyz') expect(timeoutMs, `${deployment.metadata.name} ${kind}`).toBeGreaterThan(READY_CHECK_MS);
      }
    }
  });
});

describe('deploy/kubernetes: autoscaling', () => {
  const scaledObjects = ofKind('ScaledObject');
  const triggerOf = (target: string) => {
    const scaled = scaledObjects.find((s) => s.spec.scaleTargetRef.name === target);
    expect(scaled, `a ScaledObject for ${target}`).toBeDefined();
    return scaled?.spec.triggers[0] as { type: string; metadata: Record<string, string>; authenticationRef?: { name: string } };
  };

  it('scales the workers and the engines, Deployments that then leave replicas to KEDA', () => {
    expect(scaledObjects.map((s) => s.spec.scaleTargetRef.name).sort()).toEqual(['engine', 'worker']);
    for (const scaled of scaledObjects) {
      const target = named('Deployment', scaled.spec.scaleTargetRef.name);
      expect(target, scaled.metadata.name).toBeDefined();
      expect(target?.spec.replicas, `${scaled.metadata.name}: replicas would fight the autoscaler`).toBeUndefined();
      expect(scaled.spec.minReplicaCount, `${scaled.metadata.name} keeps one pod`).toBeGreaterThanOrEqual(1);
    }
  });

  it('scales the engines on the length of the engine queue’s wait list, in the Redis of REDIS_URL', () => {
    const trigger = triggerOf('engine');
    expect(trigger.type).toBe('redis');
    expect(trigger.metadata.listName).toBe(`${enginePrefixOf(configMap)}:${ENGINE_RENDER_QUEUE}:wait`);
    expect(trigger.metadata.address).toBe(new URL(configMap.REDIS_URL as string).host);
    expect(trigger.metadata.enableTLS === 'true').toBe(configMap.REDIS_URL?.startsWith('rediss://'));
    const auth = named('TriggerAuthentication', trigger.authenticationRef?.name ?? '');
    expect(auth, 'its TriggerAuthentication').toBeDefined();
    for (const ref of auth?.spec.secretTargetRef ?? []) expect(Object.keys(secretOf(ref.name)?.stringData ?? {}), `Secret ${ref.name}`).toContain(ref.key);
  });

  it('scales the workers on the render queue’s waiting, prioritized and running jobs, one worker per WORKER_CONCURRENCY', () => {
    const trigger = triggerOf('worker');
    expect(trigger.type).toBe('prometheus');
    const query = trigger.metadata.query as string;
    const metric = (metrics.queueJobs as unknown as { name: string }).name;
    const selector = new RegExp(`${metric}\\{queue="([^"]+)",state=~"([^"]+)"\\}`).exec(query);
    expect(selector, `${metric}{queue=…,state=~…} in ${query}`).not.toBeNull();
    expect(selector?.[1]).toBe(RENDER_QUEUE);
    expect(selector?.[2]?.split('|').sort()).toEqual(['active', 'prioritized', 'waiting']);
    // every process reports the same gauge: a plain sum would count each job once per process
    expect(query).toMatch(/max by \(state\)/);
    expect(Number(trigger.metadata.threshold)).toBe(Number(configMap.WORKER_CONCURRENCY));
  });

  describe('against Redis', () => {
    const redis = createRedis(loadConfig({ REDIS_URL: inject('redisUrl') }));
    const prefix = `test-${randomBytes(6).toString('hex')}`;
    const queue = createRenderQueue(redis, prefix);
    afterAll(async () => {
      await queue.obliterate({ force: true });
      await queue.close();
      redis.disconnect();
    });

    it('finds a queued render job in the states the worker query counts, and none in the wait list a list scaler would read', async () => {
      await queue.add('render', { jobId: 'job_1' }, { jobId: 'job_1', priority: bullPriority('normal', 0) });
      const counts = await queue.getJobCounts();
      const counted = /state=~"([^"]+)"/.exec(triggerOf('worker').metadata.query ?? '')?.[1]?.split('|') ?? [];
      expect(counted.reduce((sum, state) => sum + (counts[state] ?? 0), 0)).toBe(1);
      expect(await redis.llen(waitListKey(prefix))).toBe(0);
    });
  });
});

describe('deploy/kubernetes: probes against the real processes', () => {
  let service: TestService;
  const adminKey = 'an-admin-key-of-24-chars';
  beforeAll(async () => {
    service = await startTestService({ env: { ADMIN_KEY: adminKey, METRICS_PORT: '0' } });
  });
  afterAll(async () => service?.close());

  /** Runs an exec probe's command as the kubelet would, with `node` being this Node, in the image's working directory (the repository's root). */
  async function execProbe(command: string[], env: Record<string, string>): Promise<number> {
    const [program, ...args] = command;
    try {
      await run(program === 'node' ? process.execPath : (program as string), args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 15_000 });
      return 0;
    } catch (error) {
      return (error as { code?: number }).code ?? 1;
    }
  }

  it.each(['api', 'worker', 'engine'])('the %s probes name ports the container has and succeed against the running process', async (component) => {
    const container = containerOf(i2vDeployment(component));
    const base = { api: service.url, worker: service.workerMetricsUrl, engine: service.engineUrl }[component] as string;
    const port = new URL(base).port;
    const probeEnv = { ADMIN_KEY: adminKey, METRICS_PORT: port, ENGINE_PORT: port, PORT: port, REDIS_URL: service.config.REDIS_URL };
    const probes = probesOf(container);
    expect(probes.map(([kind]) => kind)).toEqual(expect.arrayContaining(['readinessProbe', 'livenessProbe']));
    for (const [kind, probe] of probes) {
      const where = `${component} ${kind}`;
      if (probe.httpGet) {
        expect(portNamed(container, probe.httpGet.port), where).toBeDefined();
        expect((await fetch(`${base}${probe.httpGet.path}`)).status, `${where} GET ${probe.httpGet.path}`).toBe(200);
      } else if (probe.tcpSocket) {
        expect(portNamed(container, probe.tcpSocket.port), where).toBeDefined();
      } else {
        expect(await execProbe(probe.exec.command, probeEnv), `${where}: ${probe.exec.command.join(' ')}`).toBe(0);
      }
    }
  });

  it('the worker’s exec probe fails when its metrics server refuses the key', async () => {
    const probe = containerOf(i2vDeployment('worker')).livenessProbe;
    const port = new URL(service.workerMetricsUrl as string).port;
    expect(await execProbe(probe.exec.command, { ADMIN_KEY: 'not-the-admin-key-at-all', METRICS_PORT: port })).toBe(1);
  });
});
