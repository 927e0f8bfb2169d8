import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { expect } from 'chai';
import { parse } from 'yaml';
import { ROOT } from '../../harness/built-service';
import composeSpecSchema from '../support/compose-spec.schema.json';

/**
 * docker-compose.yml checked without a Docker engine: against the Compose Specification's JSON
 * schema (test/support/compose-spec.schema.json, vendored unchanged from
 * github.com/compose-spec/compose-spec, schema/compose-spec.json at 170098b, Apache-2.0), which
 * covers every service whatever its profile, then for the default services and for each profile
 * the references the schema cannot check: what a service depends on, the volumes and repository
 * files it mounts.
 */

interface Service {
  image?: string;
  build?: unknown;
  profiles?: string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  volumes?: Array<string | { type?: string; source?: string }>;
  healthcheck?: { disable?: boolean; test?: unknown };
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

// `<<` merge keys as Compose reads them (YAML 1.1), e.g. `<<: *orgms-env` with a service's own additions.
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as ComposeFile;
const services = Object.entries(compose.services);
const profiles = [...new Set(services.flatMap(([, service]) => service.profiles ?? []))].sort();
/** The image the file builds from the Dockerfile, which has a HEALTHCHECK of its own. */
const builtImages = new Set(services.filter(([, service]) => service.build !== undefined).map(([, service]) => service.image));

/** The services `docker compose [--profile <profile>] up` starts. */
function servicesOf(profile: string | undefined): Map<string, Service> {
  return new Map(Object.entries(compose.services).filter(([, service]) => !service.profiles || (profile !== undefined && service.profiles.includes(profile))));
}

function dependenciesOf(service: Service): Array<[string, string]> {
  const dependsOn = service.depends_on ?? [];
  if (Array.isArray(dependsOn)) return dependsOn.map((name) => [name, 'service_started']);
  return Object.entries(dependsOn).map(([name, dependency]) => [name, dependency.condition ?? 'service_started']);
}

/** Named volumes a service mounts (not bind mounts of host paths). */
function namedVolumesOf(service: Service): string[] {
  return (service.volumes ?? [])
    .map((volume) => (typeof volume === 'string' ? volume.split(':')[0] : volume.type === 'volume' ? volume.source : undefined))
    .filter((source): source is string => source !== undefined && !/^[./~$]/.test(source) && !source.includes('/'));
}

/** Paths of the repository a service bind-mounts (`./…`): Docker would mount an empty directory in place of a missing one. */
function repositoryMountsOf(service: Service): string[] {
  return (service.volumes ?? [])
    .map((volume) => (typeof volume === 'string' ? volume.split(':')[0] : volume.type === 'bind' ? volume.source : undefined))
    .filter((source): source is string => source?.startsWith('./') === true);
}

function problemsOf(profile: string | undefined): string[] {
  const running = servicesOf(profile);
  const problems: string[] = [];
  for (const [name, service] of running) {
    if (!service.image && !service.build) problems.push(`${name} has neither image nor build`);
    for (const [dependency, condition] of dependenciesOf(service)) {
      const target = running.get(dependency);
      if (!target) problems.push(`${name} depends on ${dependency}, which does not run`);
      else if (condition === 'service_healthy' && !(target.healthcheck && !target.healthcheck.disable) && !builtImages.has(target.image)) {
        problems.push(`${name} waits for ${dependency} to be healthy, which has no health check`);
      }
    }
    for (const volume of namedVolumesOf(service)) if (!(volume in (compose.volumes ?? {}))) problems.push(`${name} mounts undeclared volume ${volume}`);
    for (const path of repositoryMountsOf(service)) if (!existsSync(join(ROOT, path))) problems.push(`${name} mounts ${path}, which does not exist`);
  }
  return problems;
}

describe('docker-compose.yml', () => {
  it('when checked against the Compose Specification schema, then every service of every profile is valid', () => {
    const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false });
    addFormats(ajv);
    const validate = ajv.compile(composeSpecSchema);
    const valid = validate(compose);
    expect(validate.errors?.map((error) => `${error.instancePath} ${error.message}`) ?? [], 'schema errors').to.deep.equal([]);
    expect(valid).to.equal(true);
  });

  it('when started without a profile, then every service it depends on runs too, every volume it mounts is declared and every repository file it mounts exists', () => {
    expect(problemsOf(undefined)).to.deep.equal([]);
  });

  for (const profile of profiles) {
    it(`when started with --profile ${profile}, then every service it depends on runs too, every volume it mounts is declared and every repository file it mounts exists`, () => {
      expect(problemsOf(profile)).to.deep.equal([]);
    });
  }

  it('then the references are checked at all: a dependency on a service of a profile not started, an undeclared volume and a missing file are reported', () => {
    const [name, service] = services.find(([, candidate]) => candidate.profiles) ?? [];
    expect(name, 'a service with a profile').to.be.a('string');
    const outsider = {
      image: 'busybox',
      depends_on: { [name as string]: { condition: 'service_started' } },
      volumes: ['nowhere:/data', './deploy/missing.yml:/etc/x.yml:ro'],
    };
    compose.services.outsider = outsider;
    try {
      expect(problemsOf(undefined)).to.deep.equal([
        `outsider depends on ${name}, which does not run`,
        'outsider mounts undeclared volume nowhere',
        'outsider mounts ./deploy/missing.yml, which does not exist',
      ]);
      outsider.volumes = [];
      expect(problemsOf(service?.profiles?.[0])).to.deep.equal([]);
    } finally {
      delete compose.services.outsider;
    }
  });
});
