import { afterEach, describe, expect, it } from '@jest/globals';
import { TerminalRenderer } from '../../cli/terminal/render.js';
import { StdoutTransport } from '../../transports/stdout.js';
import { engineHarness, stagesPlugin } from '../helpers/engine-fixtures.js';
import { cleanup, DURATION, gates } from '../helpers/fixtures.js';

afterEach(cleanup);

describe('stdout transport', () => {
  it('renders what the engine emits: lines of a real child, then the ready line', async () => {
    let out = '';
    const renderer = new TerminalRenderer({ write: (t) => (out += t), color: false });
    // Each line comes only once the one before it was logged: stdout and stderr are separate
    // pipes, and lines of the two only keep their order when they do not come together.
    const gate = gates();
    const h = engineHarness(
      stagesPlugin('p', {
        name: 'script:setup',
        order: 1,
        run: (ctx) => ctx.exec('sh', ['-c', `echo one; ${gate.wait('one')}; echo two >&2; ${gate.wait('two')}; printf three`]).then(() => undefined),
      }),
      new StdoutTransport(renderer),
    );
    h.engine.hooks.message.tap('gates', (message) => {
      if (message.type !== 'log') return;
      if (message.data === 'one\n') gate.open('one');
      if (message.data === 'two\n') gate.open('two');
    });
    const operation = h.operation();
    await h.engine.run(operation);
    expect(out).toMatch(
      new RegExp(`^\\[setup\\] one\\n\\[setup\\] two\\n\\[setup\\] three\\n {2}setup ${DURATION}\\n✓ ${operation.environment.name} ready \\(simple, ready\\) in ${DURATION}\\n$`),
    );
  });
});
