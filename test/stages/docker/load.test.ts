import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanup, tempDir, writeFiles } from '../../helpers/fixtures.js';
import { composeFiles, loadCompose } from '../../../stages/docker/load.js';
import { allocatePorts } from '../../../stages/docker/ports.js';
import { portRequests } from '../../../stages/docker/published.js';
import { rewriteCompose } from '../../../stages/docker/rewrite.js';

afterEach(cleanup);

/** The merged model of a worktree made of `files`, read as the docker stage reads it. */
function load(files: Record<string, string>, configured?: string | string[]) {
  const dir = tempDir();
  writeFiles(dir, files);
  const found = composeFiles(dir, configured);
  if (!found) throw new Error('no compose file');
  return loadCompose(dir, found);
}

describe('the compose model plain `docker compose up` reads', () => {
  it('merges the override file the way compose does', () => {
    const { files, doc } = load({
      'compose.yaml': `services:
  web:
    image: web
    command: [serve, --all]
    ports: ["8080:80"]
    environment: [A=1, B=2]
    volumes: [./src:/src, data:/data]
    labels: {team: core}
    depends_on: [db]
  db:
    image: pg
    ports: ["5432:5432"]
volumes:
  data: {}
`,
      'compose.override.yml': `services:
  web:
    command: [serve, --debug]
    ports: ["9229:9229"]
    environment: {B: "3", C: "4"}
    volumes: [./other:/src]
    depends_on: {cache: {condition: service_healthy}}
  db:
    ports: !override ["5433:5432"]
    image: !reset null
  cache:
    image: redis
`,
    });
    expect(files).toEqual(['compose.yaml', 'compose.override.yml']);
    expect(doc.services!.web).toEqual({
      image: 'web',
      command: ['serve', '--debug'],
      ports: ['8080:80', '9229:9229'],
      environment: { A: '1', B: '3', C: '4' },
      volumes: ['./other:/src', 'data:/data'],
      labels: { team: 'core' },
      depends_on: { db: { condition: 'service_started' }, cache: { condition: 'service_healthy' } },
    });
    expect(doc.services!.db).toEqual({ ports: ['5433:5432'] });
    expect(doc.services!.cache).toEqual({ image: 'redis' });
  });

  it('reads the files the config names, in order, and no override then', () => {
    const { files, dir, doc } = load(
      {
        'docker/docker-compose.yml': 'services:\n  web:\n    image: web\n    build: ..\n',
        'docker/docker-compose.dev.yml': 'services:\n  web:\n    ports: ["3000"]\n',
        'docker/docker-compose.override.yml': 'services:\n  web:\n    ports: ["9999"]\n',
      },
      ['docker/docker-compose.yml', 'docker/docker-compose.dev.yml'],
    );
    expect(files).toEqual(['docker/docker-compose.yml', 'docker/docker-compose.dev.yml']);
    expect(dir.endsWith('/docker')).toBe(true);
    expect(doc.services!.web).toEqual({ image: 'web', build: '..', ports: ['3000'] });
    expect(() => load({ 'compose.yml': 'services: {}\n' }, ['compose.yml', 'missing.yml'])).toThrow(
      /config key compose\[1\]: missing.yml does not exist in the worktree/,
    );
  });

  it('resolves extends in the same file and from another folder, with its relative paths', () => {
    const { files, doc } = load({
      'compose.yml': `services:
  web:
    image: web
    build: .
    ports: ["8080:80"]
    container_name: web
    environment: {MODE: web}
  canary:
    extends: {service: web}
    ports: !reset []
    container_name: canary
    environment: {MODE: canary}
  worker:
    extends: {file: common/base.yml, service: job}
    command: work
`,
      'common/base.yml': `services:
  job:
    extends: base
    volumes: [./scripts:/scripts]
    env_file: job.env
  base:
    image: job
    build: {context: ., dockerfile: Dockerfile.job}
    command: base
`,
    });
    expect(files).toEqual(['compose.yml', 'common/base.yml']);
    expect(doc.services!.canary).toEqual({ image: 'web', build: '.', container_name: 'canary', environment: { MODE: 'canary' } });
    expect(doc.services!.worker).toEqual({
      image: 'job',
      build: { context: './common', dockerfile: 'Dockerfile.job' },
      command: 'work',
      volumes: ['./common/scripts:/scripts'],
      env_file: './common/job.env',
    });
  });

  it('adds what include:d files define, relative to their own folder', () => {
    const { files, doc } = load({
      'compose.yml': `include:
  - infra/db.yml
  - path: [infra/cache.yml]
services:
  web:
    image: web
    depends_on: [db]
`,
      'infra/db.yml': `services:
  db:
    image: pg
    container_name: shared-db
    ports: ["5432:5432"]
    volumes: [pgdata:/var/lib/postgresql/data, ./init:/docker-entrypoint-initdb.d]
volumes:
  pgdata: {}
secrets:
  pw: {file: ./pw.txt}
`,
      'infra/cache.yml': 'services:\n  cache:\n    image: redis\n',
    });
    expect(files).toEqual(['compose.yml', 'infra/db.yml', 'infra/cache.yml']);
    expect(Object.keys(doc.services!)).toEqual(['web', 'db', 'cache']);
    expect(doc.services!.db).toMatchObject({ container_name: 'shared-db', volumes: ['pgdata:/var/lib/postgresql/data', './infra/init:/docker-entrypoint-initdb.d'] });
    expect(doc.volumes).toEqual({ pgdata: {} });
    expect(doc.secrets).toEqual({ pw: { file: './infra/pw.txt' } });
    expect(doc.include).toBeUndefined();
  });

  it('makes what extends and include bring in per-environment too', async () => {
    const { doc } = load({
      'compose.yml': 'include: [infra.yml]\nservices:\n  web:\n    image: w\n    ports: ["8080:80"]\n  canary:\n    extends: {service: web}\n',
      'infra.yml': 'services:\n  db:\n    image: pg\n    container_name: shared-db\n    ports: ["5432:5432"]\n    volumes: [pgdata:/data]\nvolumes:\n  pgdata: {name: pgdata}\n',
    });
    const requests = portRequests(doc, 'compose.yml', {});
    const bindings = await allocatePorts(4, requests, async () => true);
    // canary inherits web's port, and gets a host port of its own: the environment does not clash with itself.
    expect(bindings.map((b) => `${b.service}:${b.containerPort}=${b.hostPort}`)).toEqual(['web:80=10480', 'canary:80=10481', 'db:5432=10432']);
    const { doc: out } = rewriteCompose(doc, { file: 'compose.yml', vars: {}, composeProject: 'piko-app-x', id: 4, bindings, ownPaths: [] });
    expect(out.services!.db).toMatchObject({ container_name: 'piko-app-x-shared-db', ports: ['10432:5432/tcp'] });
    expect(out.volumes).toEqual({ pgdata: { name: 'piko-app-x_pgdata' } });
  });

  it('reads a file with over a thousand aliases, as compose does', () => {
    const services = Array.from({ length: 1100 }, (_, i) => `  s${i}:\n    <<: *defaults\n    environment: {N: "${i}"}\n`).join('');
    const doc = load({ 'compose.yml': `x-defaults: &defaults\n  image: app\n  logging: {driver: json-file}\nservices:\n${services}` }).doc;
    expect(Object.keys(doc.services!)).toHaveLength(1100);
    expect(doc.services!.s1099).toEqual({ image: 'app', logging: { driver: 'json-file' }, environment: { N: '1099' } });
  });

  it('names the file, and what is wrong, when a model cannot be read', () => {
    expect(() => load({ 'compose.yml': 'services:\n  web:\n    extends: {service: nope}\n' })).toThrow(
      'compose.yml: services.web.extends: there is no service nope to extend',
    );
    expect(() => load({ 'compose.yml': 'services:\n  a: {extends: b}\n  b: {extends: a}\n' })).toThrow('a cycle');
    expect(() => load({ 'compose.yml': 'include: [missing.yml]\nservices: {}\n' })).toThrow('compose.yml: include[0]: missing.yml does not exist');
    expect(() => load({ 'compose.yml': 'services: {}\n', 'compose.override.yml': 'services: [\n' })).toThrow(
      'compose.override.yml: not valid YAML: line 2, column 1',
    );
    expect(() =>
      load({ 'compose.yml': 'include: [other.yml]\nservices:\n  db: {image: a}\n', 'other.yml': 'services:\n  db: {image: b}\n' }),
    ).toThrow('compose.yml: services.db is defined here and in the included other.yml; rename one');
    // A billion laughs is refused, with the file named and the bound said.
    const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) laughs.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    expect(() => load({ 'compose.yml': `${laughs.join('\n')}\nservices: {}\n` })).toThrow(/^compose.yml: not valid YAML: .*alias.* \(piko expands at most 100000 aliases\)$/);
  });
});
