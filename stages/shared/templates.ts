// The databases environments start as copies of: each `template:` made once, by its `seed:` (run
// on the host in the repository, with the template's URL), before the first environment is cloned
// from it; `piko shared reseed` makes it again. A template that is not there and has no seed to
// make it is an error that says how to make it.
import { serviceVariable } from '../../core/environment/vars.js';
import { PikoError } from '../../core/errors.js';
import { create, drop, exists, type Shell } from './databases.js';
import { databaseServer, templateUrls, type SharedPlan } from './project.js';
import type { SharedService } from './model.js';

/** Makes every template that is missing (all of them with `again`: a reseed). Call holding the shared lock. */
export async function ensureTemplates(plan: SharedPlan, shell: Shell, file: string, again = false): Promise<void> {
  for (const shared of plan.services) {
    const template = shared.config.template;
    if (shared.kind === 'none' || template === undefined) continue;
    const server = await databaseServer(plan, shared.service);
    const there = await exists(server, template);
    if (there && !again) continue;
    if (shared.config.seed === undefined) {
      if (there) continue;
      throw new PikoError(
        'PIKO_ERR_STAGE_FAILED',
        `shared failed: the template ${template} does not exist on ${shared.service} (${shared.kind})`,
        { stage: 'shared', hint: `Make it: set shared.${shared.service}.seed in ${file} (it runs once, with PIKO_${shared.service.toUpperCase()}_URL pointing at it), or create the database ${template} on ${shared.service} yourself.` },
      );
    }
    if (there) await drop(server, template);
    await seed(plan, shared, template, shell);
  }
}

/** An empty template filled by the seed; dropped again when the seed fails, so the next try starts clean. */
async function seed(plan: SharedPlan, shared: SharedService, template: string, shell: Shell): Promise<void> {
  const server = await databaseServer(plan, shared.service);
  await create(server, template);
  const { hostUrl } = templateUrls(plan, shared, template);
  shell.info(`seeding ${template} on ${shared.service}: ${shared.config.seed}`);
  try {
    // The seed runs on the host: its URL is the one that reaches the server from here.
    await shell.run('sh', ['-c', shared.config.seed!], {
      cwd: plan.root,
      env: {
        [serviceVariable(shared.service, 'DATABASE')]: template,
        [serviceVariable(shared.service, 'URL')]: hostUrl,
        [serviceVariable(shared.service, 'HOST_URL')]: hostUrl,
      },
    });
  } catch (err) {
    await drop(server, template).catch(() => undefined);
    throw err;
  }
}
