import { afterEach, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../core/config/config.js';
import { cleanup, tempDir, writeFiles } from '../../helpers/fixtures.js';

afterEach(cleanup);

function project(files: Record<string, string>): string {
  const dir = tempDir();
  writeFiles(dir, files);
  return dir;
}

describe('config', () => {
  it('finds .piko.yml first, then .pikorc*, then package.json#piko', async () => {
    expect(await loadConfig(project({ '.piko.yml': 'scripts:\n  setup: a\n', '.pikorc.json': '{"scripts":{"setup":"b"}}' }))).toMatchObject({
      config: { scripts: { setup: 'a' } },
    });
    expect((await loadConfig(project({ '.pikorc.json': '{"scripts":{"setup":"b"}}' }))).config).toEqual({ scripts: { setup: 'b' } });
    expect((await loadConfig(project({ 'package.json': '{"name":"x","piko":{"transport":"sse"}}' }))).config).toEqual({ transport: 'sse' });
    expect(await loadConfig(project({}))).toEqual({ config: {}, file: undefined });
    expect(await loadConfig(project({ '.piko.yml': '' }))).toMatchObject({ config: {} });
  });

  it('does not look in parent folders', async () => {
    const parent = project({ '.piko.yml': 'scripts:\n  setup: parent\n' });
    writeFiles(parent, { 'child/README': 'x' });
    expect((await loadConfig(`${parent}/child`)).config).toEqual({});
  });

  it.each([
    ['stages:\n  - name: migrate\n', '.piko.yml: stages[0].run: required string'],
    ['scripts:\n  setup: [npm, install]\n', '.piko.yml: scripts.setup: expected string, got a list'],
    ['transport: Carrier Pigeon\n', '.piko.yml: transport: expected a transport name (websocket, sse, stdout, or one a plugin adds), got string "Carrier Pigeon"'],
    ['scripts:\n  setpu: npm install\n', '.piko.yml: scripts: unknown key "setpu"'],
    ['stages:\n  - name: x\n    run: y\n    timeout: -1\n', '.piko.yml: stages[0].timeout: expected a number of seconds above 0, got number -1'],
    ['- just\n- a list\n', '.piko.yml: expected a mapping, got a list'],
  ])('reports %j as one line with file, key and what was expected', async (text, message) => {
    await expect(loadConfig(project({ '.piko.yml': text }))).rejects.toThrow(message);
  });

  it('names the file and line of YAML it cannot parse', async () => {
    await expect(loadConfig(project({ '.piko.yml': 'scripts:\n  setup: "unterminated\n' }))).rejects.toThrow(
      /^\.piko\.yml: not valid YAML: line \d+, column \d+: /,
    );
  });
});
