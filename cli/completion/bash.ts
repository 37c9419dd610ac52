// The completion script for bash: piko's commands and options as data, and one function that
// reads the words before the cursor the way commander will, then offers what fits there.
import { shellCommands, shQuote, type CommandSpec } from './spec.js';

const list = (words: string[]): string => `(${words.map(shQuote).join(' ')})`;

export function bashScript(root: CommandSpec): string {
  const cases = shellCommands(root)
    .map((command) =>
      [
        `  ${shQuote(command.path)})`,
        `    _piko_subs=${list(command.subcommands.map((sub) => sub.name))} _piko_aliases=${list(command.aliases)}`,
        `    _piko_flags=${list(command.flags.map((f) => f.flag))} _piko_kinds=${list(command.flags.map((f) => f.kind))}`,
        `    _piko_args=${list(command.arguments)} ;;`,
      ].join('\n'),
    )
    .join('\n');
  return `# piko's completion for bash, made by \`piko completion bash\` from piko's own commands.
# In ~/.bashrc:  source <(piko completion bash)

# What the command $1 ('' for piko itself, 'project rm') takes: subcommands (aliases as
# alias=name), options with the kind of value each takes (see _piko_values; - for none), and
# positional arguments (a kind each, ending in ... when it takes the rest).
_piko_spec() {
  _piko_subs=() _piko_aliases=() _piko_flags=() _piko_kinds=() _piko_args=()
  case $1 in
${cases}
  esac
}

# The kind of value option $1 takes, in _piko_kind: - for none, empty for an unknown option.
_piko_flag_kind() {
  local i
  _piko_kind=
  for ((i = 0; i < \${#_piko_flags[@]}; i++)); do
    if [[ \${_piko_flags[i]} == "$1" ]]; then
      _piko_kind=\${_piko_kinds[i]}
      return
    fi
  done
}

# Adds to COMPREPLY the values of kind $1 that begin with $2: w:<words> are those words,
# @<names> the names piko knows (\`piko __complete <names> $3\`), @ anything (nothing offered).
_piko_values() {
  local c
  local -a words=()
  case $1 in
  w:*) IFS=, read -ra words <<<"\${1#w:}" ;;
  @?*)
    # Line by line, never through word splitting or globbing: a branch name is anyone's text.
    while IFS= read -r c; do words+=("$c"); done < <("$_piko_bin" __complete "\${1#@}" "$3" 2>/dev/null)
    ;;
  esac
  for c in "\${words[@]}"; do
    [[ $c == "$2"* ]] || continue
    [[ $c == *[!A-Za-z0-9._/@%+,:=-]* ]] && printf -v c %q "$c"
    COMPREPLY+=("$c")
  done
}

# Adds to COMPREPLY the words of $2... that begin with $1.
_piko_matching() {
  local prefix=$1 c
  shift
  for c in "$@"; do [[ $c == "$prefix"* ]] && COMPREPLY+=("$c"); done
}

_piko_complete() {
  local -a words=() args=()
  local _piko_bin=\${COMP_WORDS[0]} _piko_kind i w a sub cur kind n context glue= cmd= pending= dashdash=
  local -a _piko_subs _piko_aliases _piko_flags _piko_kinds _piko_args
  COMPREPLY=()
  # bash cuts \`--branch=main\` at the = (COMP_WORDBREAKS): put back together here. What is
  # offered then replaces only the part after the =, as bash sees it.
  for ((i = 0; i <= COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    n=$((\${#words[@]} - 1))
    if [[ -n $glue ]]; then
      words[n]+=$w
      glue=
    elif [[ $w == = && $n -gt 0 && \${words[n]} == --* && \${words[n]} != *=* ]]; then
      words[n]+==
      glue=1
    else
      words+=("$w")
    fi
  done
  n=$((\${#words[@]} - 1))
  cur=\${words[n]}
  _piko_spec ''
  for ((i = 1; i < n; i++)); do
    w=\${words[i]}
    if [[ -n $pending ]]; then
      pending=
    elif [[ -z $dashdash && $w == -- ]]; then
      dashdash=1
    elif [[ -z $dashdash && $w == -?* ]]; then
      if [[ $w != *=* ]]; then
        _piko_flag_kind "$w"
        [[ -n $_piko_kind && $_piko_kind != - ]] && pending=$_piko_kind
      fi
    else
      sub=
      if ((\${#args[@]} == 0)); then
        for a in "\${_piko_subs[@]}"; do [[ $a == "$w" ]] && sub=$a; done
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
  for ((i = 0; i < \${#_piko_args[@]}; i++)); do
    [[ \${_piko_args[i]} == @envs* ]] && break
  done
  context=\${args[0]}
  [[ \${_piko_args[i]} == @envs* ]] && context=\${args[i]}

  if [[ -n $pending ]]; then
    [[ $pending == @envs ]] && context=$cur
    _piko_values "$pending" "$cur" "$context"
    return
  fi
  if [[ -z $dashdash && $cur == --*=* ]]; then
    _piko_flag_kind "\${cur%%=*}"
    [[ $_piko_kind == @envs ]] && context=\${cur#*=}
    [[ -n $_piko_kind && $_piko_kind != - ]] && _piko_values "$_piko_kind" "\${cur#*=}" "$context"
    return
  fi
  if [[ -z $dashdash && $cur == -* ]]; then
    _piko_matching "$cur" "\${_piko_flags[@]}"
    return
  fi
  if ((\${#args[@]} == 0 && \${#_piko_subs[@]} > 0)); then
    _piko_matching "$cur" "\${_piko_subs[@]}"
    # A command with subcommands may take an argument of its own instead (\`config [env]\`).
    ((\${#_piko_args[@]} > 0)) || return
  fi
  n=\${#_piko_args[@]}
  kind=
  if ((\${#args[@]} < n)); then
    kind=\${_piko_args[\${#args[@]}]}
  elif ((n > 0)) && [[ \${_piko_args[n - 1]} == *... ]]; then
    kind=\${_piko_args[n - 1]}
  fi
  if [[ -z $kind ]]; then
    # Nothing more to name: what is left to add are options.
    [[ -z $dashdash ]] && _piko_matching "$cur" "\${_piko_flags[@]}"
    return
  fi
  kind=\${kind%...}
  [[ $kind == @envs ]] && context=$cur
  _piko_values "$kind" "$cur" "$context"
}

complete -F _piko_complete piko
`;
}
