/**
 * `kubeha completion bash|zsh`: a completion script made from the command tree itself, so every verb,
 * subcommand and option completes and a new command needs no second list. Files complete after `-f`.
 *
 *   source <(kubeha completion bash)        # bash, or in ~/.bashrc
 *   source <(kubeha completion zsh)         # zsh (uses bashcompinit)
 */
import { type Command, InvalidArgumentError } from 'commander';

/** Every command path (`""`, `"failover"`, `"lab fault"`) with the words that may follow it. */
export function completionTable(program: Command): Map<string, string[]> {
  const table = new Map<string, string[]>();
  const walk = (command: Command, path: string[]): void => {
    const words = [
      ...command.commands.map((c) => c.name()),
      ...command.options.flatMap((o) => [o.long, o.short].filter((w): w is string => Boolean(w))),
      '--help',
    ];
    table.set(path.join(' '), [...new Set(words)].sort());
    for (const sub of command.commands) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  return table;
}

/** The bash script (zsh runs it through bashcompinit). */
export function completionScript(program: Command, shell: 'bash' | 'zsh'): string {
  const table = completionTable(program);
  const cases = [...table.entries()]
    .sort(([a], [b]) => b.length - a.length)
    .map(([path, words]) => `    "${path}") words="${words.join(' ')}" ;;`)
    .join('\n');
  const commands = [...table.keys()]
    .filter((k) => k !== '')
    .map((k) => `"${k}"`)
    .join(' ');
  const body = `# kubeha shell completion (${shell}), made by \`kubeha completion ${shell}\`.
_kubeha_complete() {
  local cur prev path="" candidate words i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    -f|--file|--config|--topology|--data-dir) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
  esac
  # The longest known command path among the words typed so far.
  for ((i = 1; i < COMP_CWORD; i++)); do
    candidate="\${path:+$path }\${COMP_WORDS[i]}"
    for known in ${commands}; do
      if [ "$known" = "$candidate" ]; then path="$candidate"; fi
    done
  done
  case "$path" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -o default -F _kubeha_complete kubeha
`;
  return shell === 'zsh' ? `autoload -U +X bashcompinit && bashcompinit\n${body}` : body;
}

/** Adds `kubeha completion`. */
export function registerCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: source <(kubeha completion bash)')
    .argument('<shell>', 'bash or zsh', (value: string) => {
      if (value !== 'bash' && value !== 'zsh') throw new InvalidArgumentError('must be bash or zsh');
      return value;
    })
    .action((shell: 'bash' | 'zsh') => {
      process.stdout.write(completionScript(program, shell));
    });
}
