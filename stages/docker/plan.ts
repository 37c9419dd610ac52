// Planning an environment's compose project: the merged model of the worktree's compose files,
// a host port of the environment's block for every published port, and docker-compose.piko.yml
// written in the project folder. Planned by the `ports` stage right after the worktree exists
// (so `prepare` sees PIKO_<SERVICE>_PORT), and again by the docker stage (prepare may have
// written the `.env` the files read), keeping the ports when the same ones are asked for.
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Operation } from '../../core/engine/operation.js';
import { publishedPorts } from '../../core/environment/vars.js';
import { PikoError } from '../../core/errors.js';
import { composeProjectName, PIKO_COMPOSE_FILE } from '../../core/paths.js';
import type { PortBinding } from '../../core/protocol/messages.js';
import { databaseVariables, hasShared, setEnvironment, sharedServices, splitShared } from '../shared/model.js';
import { parseDotEnv, type Vars } from './interpolate.js';
import { composeFiles, loadCompose, type ComposeDocument } from './load.js';
import { allocatePorts, type PortRequest } from './ports.js';
import { portRequests } from './published.js';
import { rewriteCompose } from './rewrite.js';
import { writeComposeYaml } from './yaml.js';

export interface Plan {
  requests: PortRequest[];
  bindings: PortBinding[];
}

const SAID_KEY = 'DockerStagePlugin:said';

const sameRequests = (a: PortRequest[], b: PortRequest[]): boolean =>
  a.length === b.length &&
  a.every((r, i) => r.service === b[i]!.service && r.containerPort === b[i]!.containerPort && r.protocol === b[i]!.protocol && r.replicas === b[i]!.replicas);

/** Says `text` under [docker] unless this operation has said it already. */
function sayOnce(operation: Operation, text: string, stream: 'stdout' | 'stderr'): void {
  let said = operation.data.get(SAID_KEY) as Set<string> | undefined;
  if (!said) operation.data.set(SAID_KEY, (said = new Set()));
  if (said.has(text)) return;
  said.add(text);
  operation.info('docker', text, stream);
}

/** Whether the worktree has compose files; a config that names missing ones counts (planning says so). */
export function hasCompose(operation: Operation): boolean {
  try {
    return composeFiles(operation.environment.path, operation.config.compose) !== undefined;
  } catch {
    return true;
  }
}

/**
 * The environment's part of the model: without the services the project shares (they run once,
 * in `piko-<project>-shared`), its services given their own database's URL where `env:` asks.
 */
function withoutShared(operation: Operation, doc: ComposeDocument, shown: string, vars: Vars): ComposeDocument {
  if (!hasShared(operation.config)) return doc;
  const shared = sharedServices(operation.config, doc, operation.configFile ?? 'config', vars);
  const environment = splitShared(doc, shared.map((s) => s.service), shown).environment;
  setEnvironment(environment, databaseVariables(doc, shared, vars, operation.project.name, operation.environment.name));
  return environment;
}

/**
 * Plans the environment's compose project and writes docker-compose.piko.yml; the environment
 * (as the operation holds it) gets its mode, compose project, file and ports. `previous` is an
 * earlier plan whose ports are kept when the model still asks for the same ones.
 */
export async function plan(operation: Operation, previous: Plan | undefined): Promise<Plan | undefined> {
  const environment = operation.environment;
  const files = composeFiles(environment.path, operation.config.compose);
  if (!files) {
    environment.mode = 'simple';
    return undefined;
  }
  const model = loadCompose(environment.path, files);
  const out = join(model.dir, PIKO_COMPOSE_FILE);
  if (!previous && existsSync(out)) {
    throw new PikoError(
      'PIKO_ERR_PATH_EXISTS',
      `the repository has its own ${PIKO_COMPOSE_FILE}${lstatSync(out).isSymbolicLink() ? ' (a symbolic link)' : ''}; piko writes that file, so rename yours`,
      { stage: 'docker' },
    );
  }
  const composeProject = composeProjectName(operation.project.name, environment.name);
  const dotEnv = join(model.dir, '.env');
  const vars = {
    ...(existsSync(dotEnv) ? parseDotEnv(await readFile(dotEnv, 'utf8')) : {}),
    ...process.env,
    ...operation.vars(),
  };
  const shown = model.files.join(' + ');
  const doc = withoutShared(operation, model.doc, shown, vars);
  const requests = portRequests(doc, shown, vars);
  const bindings =
    previous && sameRequests(previous.requests, requests) ? previous.bindings : await allocatePorts(environment.id, requests);
  const rewritten = rewriteCompose(doc, {
    file: shown,
    vars,
    composeProject,
    id: environment.id,
    bindings,
    ownPaths: [environment.path, environment.dataDir],
    readFile: (path) => {
      try {
        return readFileSync(resolve(model.dir, path), 'utf8');
      } catch {
        return undefined;
      }
    },
  });
  const header = `# Written by piko for environment ${environment.name} from ${model.files.join(', ')}: edit ${model.files.length > 1 ? 'those' : 'that file'}, not this one.\n`;
  await writeFile(out, header + writeComposeYaml(rewritten.doc));
  Object.assign(environment, { mode: 'docker', composeProject, composeFile: out, ports: bindings });
  if (bindings !== previous?.bindings) {
    for (const port of bindings) {
      const replicas = port.replicas ? ` (${port.replicas} replicas)` : '';
      operation.info('docker', `${port.service}: ${port.containerPort}/${port.protocol} → localhost:${publishedPorts(port)}${replicas}`);
    }
  }
  for (const note of rewritten.notes) sayOnce(operation, note, 'stdout');
  for (const warning of rewritten.warnings) sayOnce(operation, `warning: ${warning}`, 'stderr');
  return { requests, bindings };
}
