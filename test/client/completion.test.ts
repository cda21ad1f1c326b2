/**
 * `kubeha completion bash|zsh`: the script is made from the command tree, so the real bash (and zsh,
 * when installed) must complete verbs, subcommands and options from it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { buildProgram } from '../../client/cli';
import { completionScript, completionTable } from '../../client/commands/completion';

/** What bash offers for the words typed so far (the last one is being completed). */
function complete(script: string, words: string[]): string[] {
  const shellWords = words.map((w) => `'${w}'`).join(' ');
  const run = spawnSync(
    'bash',
    ['-c', `${script}\nCOMP_WORDS=(kubeha ${shellWords}); COMP_CWORD=${words.length}; _kubeha_complete; printf '%s\\n' "\${COMPREPLY[@]}"`],
    { encoding: 'utf8' },
  );
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.split('\n').filter(Boolean).sort();
}

test('the table lists every command path with its subcommands and options', () => {
  const table = completionTable(buildProgram());
  assert.ok(table.get('')?.includes('bootstrap'));
  assert.deepEqual(
    table.get('failover')?.filter((w) => !w.startsWith('-')),
    ['approve', 'failback', 'reject', 'start'],
  );
  assert.ok(table.get('failover start')?.includes('--detach'));
  assert.ok(table.get('schedule')?.includes('rotate'));
});

test('bash completes verbs, subcommands, options and files after -f', () => {
  const script = completionScript(buildProgram(), 'bash');
  assert.deepEqual(complete(script, ['fai']), ['failover']);
  assert.deepEqual(complete(script, ['failover', 'a']), ['approve']);
  assert.deepEqual(complete(script, ['link', '--de']), ['--detach']);
  assert.deepEqual(complete(script, ['status', '--cl']), ['--cluster']);
  assert.ok(complete(script, ['rotate', '-f', 'package.js']).includes('package.json'));
  assert.deepEqual(complete(script, ['status', 'bootstrap-west', '--js']), ['--json'], 'options still complete after an argument');
  assert.deepEqual(complete(script, ['no-such-verb', 'x']), [], 'an unknown verb offers no verb');
});

test('the zsh script loads bash completion first', () => {
  const script = completionScript(buildProgram(), 'zsh');
  assert.match(script, /^autoload -U \+X bashcompinit && bashcompinit\n/);
  assert.match(script, /complete -o default -F _kubeha_complete kubeha/);
});
