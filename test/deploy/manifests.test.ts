/**
 * deploy/: the compose file, the values for OpenSRP's Helm chart and the Keycloak realm export parse,
 * name only the gateway's variables and files that exist, agree with each other and with the image,
 * and the realm's groups give users what the gateway needs: tokens shaped as Keycloak would issue
 * them to members of each group are run against a real gateway with the OpenSRP checker.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Bundle } from '@medplum/fhirtypes';
import { parse } from 'yaml';
import { loadAllowedQueries } from '../../src/access/allowed-queries-file.js';
import { CONFIG_VARIABLE_SOURCES, defaultOf } from '../../src/config/variables.js';
import { R4_RESOURCE_TYPES } from '../../src/fhir/resource-types.js';
import { type PermissionStack, startPermissionStack } from '../opensrp/permissions-stack.js';
import { bearer, send } from '../support/http.js';
import { APP_IDS, buildOpenSrpDataset, PERSONAS, TAG_SYSTEMS } from '../support/opensrp-dataset.js';
import { REPO_ROOT, readDockerfile } from './dockerfile.js';

const DEPLOY = join(REPO_ROOT, 'deploy');
const KNOWN_VARIABLES = new Set(CONFIG_VARIABLE_SOURCES.flatMap((s) => s.variables.map((v) => v.name)));
const runtime = readDockerfile().at(-1)!;

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  stop_grace_period?: string;
  read_only?: boolean;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface HelmValues {
  replicaCount: number;
  podSecurityContext: { runAsUser: number; runAsNonRoot: boolean };
  securityContext: { readOnlyRootFilesystem: boolean };
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  env: EnvVar[];
  applicationConfig: unknown;
}
interface RealmRole {
  name: string;
  composite?: boolean;
  composites?: { realm?: string[] };
}
interface Realm {
  realm: string;
  roles: { realm: RealmRole[] };
  groups: { name: string; realmRoles: string[]; attributes?: Record<string, string[]> }[];
  clients: {
    clientId: string;
    defaultClientScopes?: string[];
    protocolMappers?: { protocolMapper: string; config: Record<string, string> }[];
  }[];
}

const compose = parse(readFileSync(join(DEPLOY, 'compose.yaml'), 'utf8')) as {
  services: Record<string, ComposeService>;
};
const helm = parse(readFileSync(join(DEPLOY, 'helm', 'values-opensrp.yaml'), 'utf8')) as HelmValues;
const realm = JSON.parse(readFileSync(join(DEPLOY, 'keycloak', 'opensrp-realm.json'), 'utf8')) as Realm;

/** A gateway setting's file path, resolved as the image resolves it (relative to its WORKDIR, /app = the repository). */
function imageFile(path: string): string {
  return path.startsWith('/app/') ? join(REPO_ROOT, path.slice('/app/'.length)) : join(REPO_ROOT, path);
}

function seconds(duration: string): number {
  const match = /^(\d+)(ms|s|m)$/.exec(duration);
  assert.ok(match, `a duration: ${duration}`);
  return Number(match[1]) * { ms: 0.001, s: 1, m: 60 }[match[2] as 'ms' | 's' | 'm'];
}

describe('deploy/compose.yaml', () => {
  const { hapi, keycloak, gateway } = compose.services;

  test('HAPI FHIR, Keycloak and the gateway; HAPI publishes no port', () => {
    assert.ok(hapi && keycloak && gateway);
    assert.equal(hapi.ports, undefined, 'only the gateway reaches HAPI');
  });

  test('the gateway is built from the repository’s Dockerfile and uses only gateway variables', () => {
    const context = resolve(DEPLOY, gateway!.build!.context);
    assert.equal(context, REPO_ROOT);
    assert.ok(existsSync(join(context, gateway!.build!.dockerfile)));
    const env = gateway!.environment!;
    for (const name of Object.keys(env))
      assert.ok(KNOWN_VARIABLES.has(name), `${name} is a gateway variable`);
    assert.equal(env.ACCESS_CHECKER, 'permission');
    assert.equal(new URL(env.PROXY_TO!).hostname, 'hapi');
    assert.match(
      env.PAGING_LINK_KEY!,
      /^\$\{PAGING_LINK_KEY:\?/,
      'no default key: compose refuses to start without one',
    );
    assert.ok(
      gateway!.ports!.some((p) => p.endsWith(`:${runtime.env.PROXY_PORT}`)),
      'the image’s port is published',
    );
  });

  test('ALLOWED_QUERIES_FILE is a file the image ships, and it loads', () => {
    const file = imageFile(gateway!.environment!.ALLOWED_QUERIES_FILE!);
    assert.ok(existsSync(file), file);
    assert.ok(loadAllowedQueries(file));
  });

  test('TOKEN_ISSUER is the address Keycloak issues tokens as (KC_HOSTNAME), for the imported realm', () => {
    const issuer = new URL(gateway!.environment!.TOKEN_ISSUER!);
    const hostname = new URL(keycloak!.environment!.KC_HOSTNAME!);
    assert.equal(issuer.origin, hostname.origin);
    assert.equal(issuer.hostname, 'keycloak', 'reachable from the gateway container');
    assert.ok(
      keycloak!.command!.includes(`--http-port=${hostname.port}`),
      'Keycloak listens where KC_HOSTNAME says',
    );
    assert.equal(issuer.pathname, `/realms/${realm.realm}`);
    const mount = keycloak!.volumes!.find((v) => v.includes('/opt/keycloak/data/import/'));
    assert.ok(mount, 'the realm export is mounted for --import-realm');
    assert.ok(keycloak!.command!.includes('--import-realm'));
    assert.ok(existsSync(resolve(DEPLOY, mount.split(':')[0]!)));
  });

  test('the stop grace period outlasts the gateway’s drain', () => {
    const drain = Number(gateway!.environment!.SHUTDOWN_GRACE_MS ?? defaultOf('SHUTDOWN_GRACE_MS')) / 1000;
    assert.ok(seconds(gateway!.stop_grace_period ?? '10s') > drain);
    assert.equal(gateway!.read_only, true);
  });
});

describe('deploy/helm/values-opensrp.yaml (OpenSRP’s fhir-gateway chart)', () => {
  const env = new Map(helm.env.map((e) => [e.name, e]));

  test('env names only gateway variables; the OpenSRP checker; the key from a Secret shared by the replicas', () => {
    for (const name of env.keys()) assert.ok(KNOWN_VARIABLES.has(name), `${name} is a gateway variable`);
    for (const required of ['PROXY_TO', 'TOKEN_ISSUER', 'ACCESS_CHECKER'])
      assert.ok(env.get(required)?.value, required);
    assert.equal(env.get('ACCESS_CHECKER')!.value, 'permission', 'the chart’s default (list) is not shipped');
    assert.ok(helm.replicaCount >= 2);
    assert.ok(env.get('PAGING_LINK_KEY')?.valueFrom?.secretKeyRef, 'PAGING_LINK_KEY comes from a Secret');
    const file = imageFile(env.get('ALLOWED_QUERIES_FILE')!.value!);
    assert.ok(existsSync(file), file);
  });

  test('SPRING_APPLICATION_JSON stays unset (applicationConfig empty); the drain ends within the pod’s grace', () => {
    assert.equal(helm.applicationConfig ?? null, null);
    assert.ok(
      Number(env.get('SHUTDOWN_GRACE_MS')!.value) < 30_000,
      'Kubernetes’ default terminationGracePeriodSeconds',
    );
  });

  test('the pod runs as the image’s user, read-only, on the chart’s fixed port 8080', () => {
    assert.equal(String(helm.podSecurityContext.runAsUser), runtime.user!.split(':')[0]);
    assert.equal(helm.podSecurityContext.runAsNonRoot, true);
    assert.equal(helm.securityContext.readOnlyRootFilesystem, true);
    assert.equal(runtime.env.PROXY_PORT, '8080');
    assert.equal(env.get('PROXY_PORT'), undefined);
  });

  describe('probes', () => {
    let gw: PermissionStack;
    before(async () => {
      gw = await startPermissionStack();
    });
    after(() => gw.close());

    test('liveness and readiness probe paths the gateway serves, 200 when ready', async () => {
      assert.equal(helm.livenessProbe.httpGet.path, '/healthz');
      assert.equal(helm.readinessProbe.httpGet.path, '/readyz');
      for (const probe of [helm.livenessProbe, helm.readinessProbe]) {
        assert.equal(probe.httpGet.port, 'http');
        // Readiness turns 200 once the issuer's keys are loaded, in the background after listening.
        let response = await send(gw.stack.gatewayUrl, { path: probe.httpGet.path });
        for (let i = 0; i < 400 && response.status === 503; i++) {
          await sleep(25);
          response = await send(gw.stack.gatewayUrl, { path: probe.httpGet.path });
        }
        assert.equal(response.status, 200, `${probe.httpGet.path}: ${response.text}`);
      }
    });
  });
});

describe('deploy/keycloak/opensrp-realm.json', () => {
  const roles = new Map(realm.roles.realm.map((r) => [r.name, r]));
  const VERBS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
  const group = (name: string) => {
    const found = realm.groups.find((g) => g.name === name);
    assert.ok(found, `group ${name}`);
    return found;
  };
  /** realm_access.roles as Keycloak computes it: the groups' roles, composites expanded, and the default roles. */
  const realmAccess = (...groups: string[]): string[] => {
    const out = new Set<string>(['offline_access', 'uma_authorization', `default-roles-${realm.realm}`]);
    const add = (name: string) => {
      if (out.has(name)) return;
      out.add(name);
      for (const inner of roles.get(name)?.composites?.realm ?? []) add(inner);
    };
    for (const name of groups) for (const role of group(name).realmRoles) add(role);
    return [...out];
  };

  test('roles: the four OpenSRP roles, and <VERB>_<TYPE> / MANAGE_<TYPE> for R4 types', () => {
    for (const special of ['ANDROID_CLIENT', 'WEB_CLIENT', 'SUPERVISOR', 'ALL_LOCATIONS'])
      assert.ok(roles.has(special), special);
    for (const name of roles.keys()) {
      const match = /^(GET|POST|PUT|PATCH|DELETE|MANAGE)_([A-Z]+)$/.exec(name);
      if (match) assert.ok(realmTypeOf(match[2]!), `${name} names an R4 resource type`);
    }
    for (const role of roles.values()) {
      if (!role.name.startsWith('MANAGE_')) continue;
      const type = role.name.slice('MANAGE_'.length);
      assert.deepEqual(role.composites?.realm?.sort(), VERBS.map((v) => `${v}_${type}`).sort(), role.name);
    }
    for (const g of realm.groups)
      for (const r of g.realmRoles) assert.ok(roles.has(r), `${g.name}: ${r} is defined`);
  });

  test('one client role per group; the app’s client maps fhir_core_app_id, realm roles and sub into the access token', () => {
    const android = realmAccess('ANDROID_PRACTITIONER');
    assert.ok(android.includes('ANDROID_CLIENT') && !android.includes('WEB_CLIENT'));
    const web = realmAccess('WEB_PRACTITIONER');
    assert.ok(web.includes('WEB_CLIENT') && !web.includes('ANDROID_CLIENT'));
    assert.ok(
      group('ANDROID_PRACTITIONER').attributes?.fhir_core_app_id?.[0],
      'the app id, inherited by members',
    );
    const app = realm.clients.find((c) => c.clientId === 'opensrp-android');
    assert.ok(app);
    const mapper = app.protocolMappers?.find((m) => m.protocolMapper === 'oidc-usermodel-attribute-mapper');
    assert.equal(mapper?.config['user.attribute'], 'fhir_core_app_id');
    assert.equal(mapper?.config['claim.name'], 'fhir_core_app_id');
    assert.equal(mapper?.config['access.token.claim'], 'true');
    for (const client of realm.clients) {
      // `roles` carries realm_access.roles, `basic` the sub claim (Keycloak 25+).
      for (const scope of ['roles', 'basic'])
        assert.ok(client.defaultClientScopes?.includes(scope), `${client.clientId}: ${scope}`);
    }
  });

  describe('tokens of each group against the gateway (ACCESS_CHECKER=permission)', () => {
    const dataset = buildOpenSrpDataset();
    const inScope = dataset.patientsIn(dataset.subtreeOf(PERSONAS.worker.facility));
    let gw: PermissionStack;
    before(async () => {
      gw = await startPermissionStack();
    });
    after(() => gw.close());

    const as = (groups: string[], sub: string = PERSONAS.worker.sub) => ({
      roles: realmAccess(...groups),
      claims: { sub, fhir_core_app_id: APP_IDS.Location },
    });

    test('ANDROID_PRACTITIONER: every type it may read can be searched; the sync is narrowed', async () => {
      const android = as(['ANDROID_PRACTITIONER']);
      const readable = android.roles.filter((r) => r.startsWith('GET_')).map((r) => realmTypeOf(r.slice(4))!);
      // What the app reads at login and sync (configuration, the practitioner graph, clinical data).
      for (const needed of [
        'Composition',
        'Binary',
        'Questionnaire',
        'StructureMap',
        'Library',
        'PlanDefinition',
      ]
        .concat(['Practitioner', 'CareTeam', 'Organization', 'Location', 'Group', 'List'])
        .concat(['Patient', 'Observation', 'Encounter', 'QuestionnaireResponse', 'Task', 'CarePlan'])) {
        assert.ok(readable.includes(needed), `GET_${needed.toUpperCase()}`);
      }
      for (const type of readable) {
        const response = await gw.call('GET', `${type}?_count=1`, android);
        assert.equal(response.status, 200, `${type}: ${response.text.slice(0, 300)}`);
      }
      const patients = await gw.call('GET', 'Patient?_count=100', android);
      const ids = ((patients.json() as unknown as Bundle).entry ?? []).map((e) => e.resource!.id!);
      assert.deepEqual(ids.sort(), [...inScope].sort());
    });

    test('ANDROID_PRACTITIONER: login endpoints and an upload transaction', async () => {
      const token = await gw.stack.issuer.mint({
        ...as(['ANDROID_PRACTITIONER']).claims,
        realm_access: { roles: realmAccess('ANDROID_PRACTITIONER') },
      });
      for (const path of [
        `/PractitionerDetail?keycloak-uuid=${PERSONAS.worker.sub}`,
        `/LocationHierarchy?_id=${PERSONAS.worker.facility}`,
      ]) {
        const response = await send(gw.stack.gatewayUrl, { path, headers: bearer(token) });
        assert.equal(response.status, 200, `${path}: ${response.text.slice(0, 300)}`);
      }
      const tags = [{ system: TAG_SYSTEMS.location, code: dataset.subtreeOf(PERSONAS.worker.facility)[1]! }];
      const patient = { resourceType: 'Patient', id: randomUUID(), meta: { tag: tags } };
      const entries = [
        patient,
        {
          resourceType: 'Encounter',
          id: randomUUID(),
          meta: { tag: tags },
          status: 'finished',
          class: { code: 'HH' },
          subject: { reference: `Patient/${patient.id}` },
        },
        {
          resourceType: 'QuestionnaireResponse',
          id: randomUUID(),
          meta: { tag: tags },
          status: 'completed',
          subject: { reference: `Patient/${patient.id}` },
        },
      ].map((resource) => ({
        resource,
        request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
      }));
      const upload = await gw.call('POST', '', {
        ...as(['ANDROID_PRACTITIONER']),
        body: { resourceType: 'Bundle', type: 'transaction', entry: entries },
      });
      assert.equal(upload.status, 200, upload.text.slice(0, 400));
    });

    test('ANDROID_PRACTITIONER + SUPERVISOR: the team on /PractitionerDetail', async () => {
      const token = await gw.stack.issuer.mint({
        sub: PERSONAS.supervisor.sub,
        fhir_core_app_id: APP_IDS.Location,
        realm_access: { roles: realmAccess('ANDROID_PRACTITIONER', 'SUPERVISOR') },
      });
      const response = await send(gw.stack.gatewayUrl, {
        path: `/PractitionerDetail?keycloak-uuid=${PERSONAS.supervisor.sub}`,
        headers: bearer(token),
      });
      assert.equal(response.status, 200, response.text.slice(0, 300));
      assert.ok(((response.json() as unknown as Bundle).entry ?? []).length > 1, 'the supervisor’s team');
    });

    test('WEB_PRACTITIONER: not narrowed, and manages what it reads', async () => {
      const web = as(['WEB_PRACTITIONER']);
      const all = await gw.call('GET', 'Patient?_summary=count', web);
      assert.equal(all.status, 200, all.text);
      const stored = await fetch(`${gw.stack.fhir.baseUrl}/Patient?_summary=count`).then((r) => r.json());
      assert.equal(all.json().total, (stored as { total: number }).total, 'every stored Patient');
      assert.ok(Number(all.json().total) > inScope.length);
      const deleted = await gw.call('DELETE', `Patient/${inScope[0]}`, web);
      assert.ok(deleted.status === 200 || deleted.status === 204, deleted.text);
    });
  });
});

/** The R4 type a role suffix names (`QUESTIONNAIRERESPONSE` → `QuestionnaireResponse`). */
const R4_BY_UPPER = new Map([...R4_RESOURCE_TYPES].map((name) => [name.toUpperCase(), name]));
function realmTypeOf(upper: string): string | undefined {
  return R4_BY_UPPER.get(upper);
}
