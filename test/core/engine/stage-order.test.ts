import { describe, expect, it } from '@jest/globals';
import { orderStages, STAGE_ORDER } from '../../../core/engine/stage-order.js';

const stage = (name: string, order: number, anchor: { before?: string; after?: string } = {}) => ({ name, order, ...anchor });
const names = (stages: { name: string }[]) => stages.map((s) => s.name);

describe('stage order', () => {
  it('puts the built-in stages at their positions, whatever order they registered in', () => {
    const stages = [stage('tmux', STAGE_ORDER.TMUX), stage('docker', STAGE_ORDER.DOCKER), stage('git', STAGE_ORDER.GIT), stage('ports', STAGE_ORDER.PORTS), stage('prepare', STAGE_ORDER.PREPARE)];
    expect(names(orderStages(stages))).toEqual(['git', 'ports', 'prepare', 'docker', 'tmux']);
  });

  it('puts an anchored stage right beside its anchor, chains included, and keeps ties in registration order', () => {
    const stages = [
      stage('git', 100),
      stage('setup', 400),
      stage('seed', 0, { after: 'migrate' }),
      stage('migrate', 0, { after: 'git' }),
      stage('early', 0, { before: 'setup' }),
      stage('a', 500),
      stage('b', 500),
    ];
    expect(names(orderStages(stages))).toEqual(['git', 'migrate', 'seed', 'early', 'setup', 'a', 'b']);
  });

  it('refuses duplicate names, unknown anchors and cycles', () => {
    expect(() => orderStages([stage('x', 1), stage('x', 2)])).toThrow('two stages are named "x"');
    expect(() => orderStages([stage('x', 1, { after: 'nothing' })])).toThrow('stage "x" refers to unknown stage "nothing" (stages: x)');
    expect(() => orderStages([stage('a', 1, { after: 'b' }), stage('b', 2, { after: 'a' })])).toThrow('stages a, b form a cycle through before/after');
  });
});
