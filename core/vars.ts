import type { EnvironmentInfo, PortBinding } from './protocol.js';

/** `web-app` → `PIKO_WEB_APP_PORT`. */
export function portVariable(service: string): string {
  return `PIKO_${service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_PORT`;
}

/**
 * Every `PIKO_*` variable of an environment. A service's first published port is
 * `PIKO_<SERVICE>_PORT`; when it publishes several, each is also `PIKO_<SERVICE>_PORT_<container port>`.
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
  for (const port of env.ports) byService.set(port.service, [...(byService.get(port.service) ?? []), port]);
  for (const [service, ports] of byService) {
    const name = portVariable(service);
    vars[name] = String(ports[0]!.hostPort);
    if (ports.length > 1) {
      for (const port of ports) vars[`${name}_${port.containerPort}`] = String(port.hostPort);
    }
  }
  return vars;
}
