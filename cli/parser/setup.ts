// The commands that set piko up around the environments: projects, trust, the doctor, the server.
import type { Command } from 'commander';

export function addSetupCommands(program: Command, version: string): void {
  program
    .command('init')
    .description('register the git repository you stand in as a project (named after its folder), approve what its config runs; adds .piko/ to .gitignore')
    .action(async () => (await import('../commands/init.js')).init(process.cwd()));

  program
    .command('trust')
    .description("show what the project's config runs (scripts, stages, shells, plugins) and approve it; piko refuses to run a config that changed until then")
    .argument('[project]', 'project name (default: the one you stand in)')
    .action(async (name: string | undefined) => (await import('../commands/trust.js')).trust(name));

  program
    .command('doctor')
    .description('check git, docker, docker compose, tmux, the server, the state database and every project')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => (await import('../commands/doctor.js')).doctor(options));

  program
    .command('projects')
    .description('list the registered projects')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => (await import('../commands/projects.js')).projects(options));

  program
    .command('project')
    .description('manage registered projects')
    .command('rm')
    .description('forget a project (its repository is untouched)')
    .argument('<name>', 'project name')
    .option('-f, --force', 'destroy its environments first')
    .action(async (name: string, options: { force?: boolean }) => (await import('../commands/projects.js')).removeProject(name, options));

  program
    .command('shared')
    .description("the project's shared services (compose project piko-<project>-shared): status, up, down, logs, reseed")
    .argument('<action>', 'status: what runs and which environments use it; up; down (refused while environments use it); logs; reseed: make each template again')
    .argument('[service]', 'for logs: one service')
    .option('-p, --project <name>', 'project name (default: the one you stand in)')
    .option('-f, --follow', 'logs: follow')
    .option('--force', 'down: stop them even while environments use them (their data is kept)')
    .option('--volumes', 'down: remove their volumes too (refused while environments use them)')
    .option('--json', 'status: print JSON')
    .option('-y, --yes', "approve what the project's config runs (a seed) as it is now")
    .action(async (action: string, service: string | undefined, options: Record<string, boolean | string | undefined>) =>
      (await import('../commands/shared.js')).shared(action, service, options),
    );

  program
    .command('server')
    .description('run the piko server in the foreground: operations stream to clients over WebSocket and SSE')
    .option('-p, --port <port>', 'port to listen on; 0 picks a free one', '19876')
    .option('--host <host>', 'address to listen on; anything but loopback lets other machines in', '127.0.0.1')
    .action(async (options: { port: string; host: string }) => (await import('../commands/server.js')).server(options, version));
}
