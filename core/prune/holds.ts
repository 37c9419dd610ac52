// What keeps an environment from being removed, whatever else says it is done: an operation
// running on it, a person attached to its tmux session, or a process working inside its worktree
// (an editor, a dev server, a shell). piko's own tmux server and the idle shells of its panes do
// not count (nor what those shells started in their own process group while reading their
// startup files): they are what piko left there, and go with the session. A job a person started
// in such a shell has a process group of its own, and counts.
import { readdirSync, readlinkSync, readFileSync } from 'node:fs';
import { isWithin } from '../paths.js';
import { tmux, tmuxArgs } from '../system/tmux.js';

/** Fields of /proc/<pid>/stat after the command name (0: state, 1: parent, 2: group), or undefined when it is gone. */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** A process's group (field 5 of /proc/<pid>/stat), or undefined when it is gone. */
function processGroup(pid: number | string): number | undefined {
  const group = statFields(pid)?.[2];
  return group === undefined ? undefined : Number(group);
}

/**
 * Whether `pid` is this process or one it started (or they started): piko's own git, du and
 * tmux calls, which run in the worktree (`git status`) while it is looked at.
 */
function ownProcess(pid: number): boolean {
  let at: number | undefined = pid;
  for (let hops = 0; at !== undefined && at > 1 && hops < 64; hops++) {
    if (at === process.pid) return true;
    const parent: string | undefined = statFields(at)?.[1];
    at = parent === undefined ? undefined : Number(parent);
  }
  return false;
}

/** The processes (pid, group, command name) whose working directory is inside `dir` (Linux: /proc); undefined where that cannot be known. */
export function processesIn(dir: string): { pid: number; group: number | undefined; command: string }[] | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return undefined;
  }
  const found: { pid: number; group: number | undefined; command: string }[] = [];
  for (const pid of pids) {
    let cwd: string;
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      // Gone meanwhile, or another user's: not one that can work in our folders.
      continue;
    }
    if (!isWithin(cwd, dir)) continue;
    let command = '?';
    try {
      command = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      // Gone meanwhile.
    }
    found.push({ pid: Number(pid), group: processGroup(pid), command });
  }
  return found;
}

/**
 * The processes of a tmux session that are piko's, not a person's work: the tmux server, and
 * each pane's shell while nothing runs in the foreground of its pane.
 */
async function pikosOwn(session: string, socket: string | undefined): Promise<{ pids: Set<number>; groups: Set<number>; clients: number }> {
  const pids = new Set<number>();
  const groups = new Set<number>();
  const server = await tmux(tmuxArgs(socket, 'display-message', '-p', '-t', `=${session}:`, '#{pid}'));
  if (server.code !== 0) return { pids, groups, clients: 0 };
  pids.add(Number(server.stdout.trim()));
  const panes = await tmux(tmuxArgs(socket, 'list-panes', '-s', '-t', `=${session}`, '-F', '#{pane_pid}\t#{pane_current_command}'));
  for (const line of panes.stdout.split('\n').filter(Boolean)) {
    const [pid = '', current = ''] = line.split('\t');
    let shell = '';
    try {
      shell = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      // Gone: nothing of it to keep.
    }
    if (shell !== '' && shell === current) {
      pids.add(Number(pid));
      const group = processGroup(pid);
      if (group !== undefined) groups.add(group);
    }
  }
  const clients = await tmux(tmuxArgs(socket, 'list-clients', '-t', `=${session}`, '-F', '#{client_pid}'));
  return { pids, groups, clients: clients.code === 0 ? clients.stdout.split('\n').filter(Boolean).length : 0 };
}

/** Why the environment must stay as it is, or undefined when nothing keeps it. */
export async function heldBy(options: { worktree: string; session: string; socket: string | undefined; running: boolean }): Promise<string | undefined> {
  if (options.running) return 'an operation is running on it';
  const own = await pikosOwn(options.session, options.socket);
  if (own.clients > 0) return `${own.clients === 1 ? 'a person is' : `${own.clients} people are`} attached to its tmux session`;
  const working = processesIn(options.worktree)?.filter((p) => !own.pids.has(p.pid) && !(p.group !== undefined && own.groups.has(p.group)) && !ownProcess(p.pid));
  if (working === undefined) return undefined;
  if (working.length > 0) {
    const named = [...new Set(working.map((p) => p.command))].slice(0, 3).join(', ');
    return `${working.length === 1 ? 'a process works' : `${working.length} processes work`} inside its worktree (${named})`;
  }
  return undefined;
}
