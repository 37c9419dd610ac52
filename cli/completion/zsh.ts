// The completion script for zsh: the same reading of the command line as bash's (see bash.ts),
// offering commands and options with their descriptions. It uses compadd alone, so it needs
// nothing of zsh's completion system but compdef.
import { shellCommands, shQuote, type CommandSpec } from './spec.js';

const list = (words: string[]): string => `(${words.map(shQuote).join(' ')})`;

export function zshScript(root: CommandSpec): string {
  const cases = shellCommands(root)
    .map((command) =>
      [
        `  (${shQuote(command.path)})`,
        `    _piko_subs=${list(command.subcommands.map((sub) => sub.name))}`,
        `    _piko_subd=${list(command.subcommands.map((sub) => sub.description))}`,
        `    _piko_aliases=${list(command.aliases)}`,
        `    _piko_flags=${list(command.flags.map((f) => f.flag))}`,
        `    _piko_kinds=${list(command.flags.map((f) => f.kind))}`,
        `    _piko_flagd=${list(command.flags.map((f) => f.description))}`,
        `    _piko_args=${list(command.arguments)} ;;`,
      ].join('\n'),
    )
    .join('\n');
  return `#compdef piko
# piko's completion for zsh, made by \`piko completion zsh\` from piko's own commands.
# In ~/.zshrc, after compinit:  source <(piko completion zsh)
# or saved as _piko in a folder of $fpath:  piko completion zsh > ~/.zfunc/_piko

# What the command $1 ('' for piko itself, 'project rm') takes: subcommands with their
# descriptions (aliases as alias=name), options with the kind of value each takes (see
# _piko_values; - for none) and their descriptions, and positional arguments (a kind each,
# ending in ... when it takes the rest).
_piko_spec() {
  _piko_subs=() _piko_subd=() _piko_aliases=() _piko_flags=() _piko_kinds=() _piko_flagd=() _piko_args=()
  case $1 in
${cases}
  esac
}

# The kind of value option $1 takes: - for none, nothing for an unknown option.
_piko_flag_kind() {
  local i=\${_piko_flags[(Ie)$1]}
  (( i )) && print -r -- \${_piko_kinds[i]}
}

# Offers the values of kind $1: w:<words> are those words, @<names> the names piko knows
# (\`piko __complete <names> $2\`), @ anything (nothing offered).
_piko_values() {
  local -a names
  case $1 in
  (w:*) names=(\${(s:,:)1#w:}) ;;
  (@?*) names=(\${(f)"$($_piko_bin __complete \${1#@} "$2" 2>/dev/null)"}) ;;
  esac
  (( \${#names} )) && compadd -- "\${names[@]}"
}

# Offers the words of the array named $1, described by the array named $2, one a line.
_piko_described() {
  local -a items display
  local i width=0
  items=("\${(@P)1}")
  (( \${#items} )) || return
  for i in {1..\${#items}}; do (( \${#items[i]} > width )) && width=\${#items[i]}; done
  for i in {1..\${#items}}; do display+=("\${(r:width:)items[i]}  -- \${\${(@P)2}[i]}"); done
  compadd -l -d display -- "\${items[@]}"
}

_piko() {
  emulate -L zsh
  local -a args _piko_subs _piko_subd _piko_aliases _piko_flags _piko_kinds _piko_flagd _piko_args
  local _piko_bin=\${(Q)words[1]} cur=$PREFIX i w a sub kind context cmd= pending= dashdash=
  _piko_spec ''
  for (( i = 2; i < CURRENT; i++ )); do
    w=\${(Q)words[i]}
    if [[ -n $pending ]]; then
      pending=
    elif [[ -z $dashdash && $w == -- ]]; then
      dashdash=1
    elif [[ -z $dashdash && $w == -?* ]]; then
      if [[ $w != *=* ]]; then
        kind=$(_piko_flag_kind "$w")
        [[ -n $kind && $kind != - ]] && pending=$kind
      fi
    else
      sub=
      if (( \${#args} == 0 )); then
        (( \${_piko_subs[(Ie)$w]} )) && sub=$w
        for a in "\${_piko_aliases[@]}"; do [[ \${a%%=*} == "$w" ]] && sub=\${a#*=}; done
      fi
      if [[ -n $sub ]]; then
        cmd+=\${cmd:+ }$sub
        _piko_spec "$cmd"
      else
        args+=("$w")
      fi
    fi
  done

  # What the names of a kind depend on: the environment for its services, else the first
  # argument (a create's name says whose branches and environments).
  i=\${_piko_args[(i)@envs*]}
  context=\${args[1]}
  (( i <= \${#_piko_args} )) && context=\${args[i]}

  if [[ -n $pending ]]; then
    [[ $pending == @envs ]] && context=$cur
    _piko_values "$pending" "$context"
    return
  fi
  if [[ -z $dashdash && $cur == --*=* ]]; then
    kind=$(_piko_flag_kind "\${cur%%=*}")
    [[ -z $kind || $kind == - ]] && return
    # The option stays as it is; its value is what is completed.
    IPREFIX+="\${cur%%=*}="
    PREFIX=\${cur#*=}
    [[ $kind == @envs ]] && context=$PREFIX
    _piko_values "$kind" "$context"
    return
  fi
  if [[ -z $dashdash && $cur == -* ]]; then
    _piko_described _piko_flags _piko_flagd
    return
  fi
  if (( \${#args} == 0 && \${#_piko_subs} > 0 )); then
    _piko_described _piko_subs _piko_subd
    # A command with subcommands may take an argument of its own instead (\`config [env]\`).
    (( \${#_piko_args} )) || return
  fi
  kind=
  if (( \${#args} < \${#_piko_args} )); then
    kind=\${_piko_args[\${#args} + 1]}
  elif [[ \${_piko_args[-1]} == *... ]]; then
    kind=\${_piko_args[-1]}
  fi
  if [[ -z $kind ]]; then
    # Nothing more to name: what is left to add are options.
    [[ -z $dashdash ]] && _piko_described _piko_flags _piko_flagd
    return
  fi
  kind=\${kind%...}
  [[ $kind == @envs ]] && context=$cur
  _piko_values "$kind" "$context"
}

# Autoloaded from $fpath, this file is _piko's body; sourced, it registers it.
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _piko "$@"
else
  compdef _piko piko
fi
`;
}
