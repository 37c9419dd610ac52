import type { EnvironmentInfo, PortBinding } from '../protocol/messages.js';

/** The host side of a binding as docker takes it: `10180`, or `10180-10182` for three replicas. */
export const publishedPorts = (binding: PortBinding): string =>
  binding.replicas && binding.replicas > 1 ? `${binding.hostPort}-${binding.hostPort + binding.replicas - 1}` : String(binding.hostPort);

/** `web-app` → `PIKO_WEB_APP_PORT`. */
export function portVariable(service: string): string {
  return serviceVariable(service, 'PORT');
}

/** `web-app` → `PIKO_WEB_APP_<suffix>`. */
export function serviceVariable(service: string, suffix: string): string {
  return `PIKO_${service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${suffix}`;
}

/**
 * Every `PIKO_*` variable of an environment. A service's first published port is
 * `PIKO_<SERVICE>_PORT`; when it publishes several, each is also `PIKO_<SERVICE>_PORT_<container port>`.
 * A service with replicas has a host port per replica: `PIKO_<SERVICE>_PORT` is the first, and
 * `PIKO_<SERVICE>_PORTS` the range (`10180-10182`) docker hands out one by one. A shared service
 * the environment uses has its ports the same way, and its database `PIKO_<SERVICE>_DATABASE`,
 * `PIKO_<SERVICE>_URL` (inside the environment's network) and `PIKO_<SERVICE>_HOST_URL`.
 */
export function environmentVariables(root: string, env: EnvironmentInfo): Record<string, string> {
  const vars: Record<string, string> = {
    PIKO_ROOT: root,
    PIKO_PROJECT: env.project,
    PIKO_ENV_NAME: env.name,
    PIKO_ENV_ID: String(env.id),
    PIKO_ENV_PATH: env.path,
    PIKO_DATA_DIR: env.dataDir,
    PIKO_BRANCH: env.branch,
  };
  const byService = new Map<string, PortBinding[]>();
  for (const port of [...env.ports, ...(env.shared ?? []).flatMap((use) => use.ports)]) {
    byService.set(port.service, [...(byService.get(port.service) ?? []), port]);
  }
  for (const [service, ports] of byService) {
    const name = portVariable(service);
    vars[name] = String(ports[0]!.hostPort);
    if (ports[0]!.replicas) vars[`${name}S`] = publishedPorts(ports[0]!);
    if (ports.length > 1) {
      for (const port of ports) vars[`${name}_${port.containerPort}`] = String(port.hostPort);
    }
  }
  for (const { service, database } of env.shared ?? []) {
    if (!database) continue;
    vars[serviceVariable(service, 'DATABASE')] = database.name;
    vars[serviceVariable(service, 'URL')] = database.url;
    vars[serviceVariable(service, 'HOST_URL')] = database.hostUrl;
  }
  return vars;
}
