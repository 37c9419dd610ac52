import { afterEach, describe, expect, it } from '@jest/globals';
import { TerminalRenderer } from '../../cli/terminal/render.js';
import { StdoutTransport } from '../../transports/stdout.js';
import { engineHarness, stagesPlugin } from '../helpers/engine-fixtures.js';
import { cleanup } from '../helpers/fixtures.js';

afterEach(cleanup);

describe('stdout transport', () => {
  it('renders what the engine emits: lines of a real child, then the ready line', async () => {
    let out = '';
    const renderer = new TerminalRenderer({ write: (t) => (out += t), color: false });
    const h = engineHarness(
      stagesPlugin('p', {
        name: 'script:setup',
        order: 1,
        run: (ctx) => ctx.exec('sh', ['-c', 'echo one; sleep 0.1; echo two >&2; sleep 0.1; printf three']).then(() => undefined),
      }),
      new StdoutTransport(renderer),
    );
    const operation = h.operation();
    await h.engine.run(operation);
    expect(out).toMatch(
      new RegExp(`^\\[setup\\] one\\n\\[setup\\] two\\n\\[setup\\] three\\n {2}setup \\d+ms\\n✓ ${operation.environment.name} ready \\(simple, ready\\) in \\d+ms\\n$`),
    );
  });
});
