import type { PikoPlugin } from '../core/engine/engine.js';
import { ConfigStagesPlugin } from './config-stages.js';
import { CopyStagePlugin } from './copy/index.js';
import { DockerStagePlugin } from './docker/index.js';
import { GitStagePlugin } from './git.js';
import { SharedServicesPlugin } from './shared/index.js';
import { destroyScript, prepareScript, setupScript } from './script.js';
import { TmuxStagePlugin } from './tmux.js';

/** The stage plugins every engine starts with; their order comes from STAGE_ORDER, not from this list. */
export function builtinStagePlugins(): PikoPlugin[] {
  return [new GitStagePlugin(), new CopyStagePlugin(), prepareScript(), new DockerStagePlugin(), new SharedServicesPlugin(), setupScript(), destroyScript(), new ConfigStagesPlugin(), new TmuxStagePlugin()];
}
