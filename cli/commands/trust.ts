// `piko trust [project]`: approve what the project's config runs as it is now, having shown it
// (what changed since the last approval, or all of it the first time). `piko init` approves the
// same way when it registers a project.
import { basename } from 'node:path';
import { loadConfig } from '../../core/config/config.js';
import { digestOf, readApproval, recordApproval, trustDiff, trustLines } from '../../core/config/trust.js';
import type { ProjectRow } from '../../core/state/state.js';
import { openState } from '../open-state.js';
import { resolveProject } from '../../core/state/resolve.js';

/** Shows what the project's config runs (or what changed) and records it as approved. */
export async function approveProject(home: string, project: Pick<ProjectRow, 'name' | 'root'>): Promise<void> {
  // Reading a config that is code runs it: approving it is what the user asked for here.
  const loaded = await loadConfig(project.root);
  const lines = trustLines(project.root, loaded);
  const file = loaded.file ? basename(loaded.file) : 'its config';
  if (lines.length === 0) {
    console.log(`${file} of ${project.name} runs nothing of its own: nothing to approve`);
    return;
  }
  const approved = readApproval(home, project.root);
  if (approved?.digest === digestOf(lines)) {
    console.log(`what ${file} of ${project.name} runs is approved already (${approved.approvedAt}):`);
    for (const line of lines) console.log(`  ${line}`);
    return;
  }
  recordApproval(home, project.root, lines);
  if (approved) {
    console.log(`✓ approved what changed in ${file} of ${project.name}:`);
    for (const line of trustDiff(approved.lines, lines)) console.log(`  ${line}`);
  } else {
    console.log(`✓ approved what ${file} of ${project.name} runs (piko asks again when it changes):`);
    for (const line of lines) console.log(`  ${line}`);
  }
}

export async function trust(name: string | undefined): Promise<void> {
  const { home, state } = openState();
  try {
    await approveProject(home, await resolveProject(state, name, process.cwd()));
  } finally {
    state.close();
  }
}
