// The completion script for fish: the same reading of the command line as bash's (see bash.ts),
// printing each candidate with its description for fish to filter and show.
import { shellCommands, type CommandSpec } from './spec.js';

/** `text` in fish's single quotes, where only \ and ' are special. */
const fishQuote = (text: string): string => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

const set = (name: string, words: string[]): string => `set -g ${name}${words.map((w) => ` ${fishQuote(w)}`).join('')}`;

export function fishScript(root: CommandSpec): string {
  const cases = shellCommands(root)
    .map((command) =>
      [
        `        case ${fishQuote(command.path)}`,
        `            ${set('__piko_subs', command.subcommands.map((sub) => sub.name))}`,
        `            ${set('__piko_subd', command.subcommands.map((sub) => sub.description))}`,
        `            ${set('__piko_aliases', command.aliases)}`,
        `            ${set('__piko_flags', command.flags.map((f) => f.flag))}`,
        `            ${set('__piko_kinds', command.flags.map((f) => f.kind))}`,
        `            ${set('__piko_flagd', command.flags.map((f) => f.description))}`,
        `            ${set('__piko_args', command.arguments)}`,
      ].join('\n'),
    )
    .join('\n');
  return `# piko's completion for fish, made by \`piko completion fish\` from piko's own commands.
# Saved where fish looks for it:  piko completion fish > ~/.config/fish/completions/piko.fish

# What the command $argv[1] ('' for piko itself, 'project rm') takes: subcommands with their
# descriptions (aliases as alias=name), options with the kind of value each takes (see
# __piko_values; - for none) and their descriptions, and positional arguments (a kind each,
# ending in ... when it takes the rest).
function __piko_spec
    set -g __piko_subs
    set -g __piko_subd
    set -g __piko_aliases
    set -g __piko_flags
    set -g __piko_kinds
    set -g __piko_flagd
    set -g __piko_args
    switch "$argv[1]"
${cases}
    end
end

# The kind of value option $argv[1] takes: - for none, nothing for an unknown option.
function __piko_flag_kind
    set -l i (contains -i -- $argv[1] $__piko_flags); and echo $__piko_kinds[$i]
end

# The values of kind $argv[1]: w:<words> are those words, @<names> the names piko knows
# (\`piko __complete <names> $argv[2]\`), @ anything (nothing offered).
function __piko_values
    switch $argv[1]
        case 'w:*'
            string split , -- (string sub -s 3 -- $argv[1])
        case '@?*'
            $__piko_bin __complete (string sub -s 2 -- $argv[1]) $argv[2..-1] 2>/dev/null
    end
end

function __piko_options
    for i in (seq (count $__piko_flags))
        printf '%s\\t%s\\n' $__piko_flags[$i] $__piko_flagd[$i]
    end
end

function __piko_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -g __piko_bin $tokens[1]
    set -l args
    set -l cmd ''
    set -l pending ''
    set -l dashdash ''
    __piko_spec ''
    for w in $tokens[2..-1]
        if test -n "$pending"
            set pending ''
        else if test -z "$dashdash"; and test "$w" = --
            set dashdash 1
        else if test -z "$dashdash"; and string match -q -- '-?*' $w
            if not string match -q -- '*=*' $w
                set -l kind (__piko_flag_kind $w)
                if test -n "$kind"; and test "$kind" != -
                    set pending $kind
                end
            end
        else
            set -l sub ''
            if test (count $args) -eq 0
                contains -- $w $__piko_subs; and set sub $w
                for a in $__piko_aliases
                    set -l pair (string split -m 1 = -- $a)
                    test "$pair[1]" = "$w"; and set sub $pair[2]
                end
            end
            if test -n "$sub"
                set cmd (string trim -- "$cmd $sub")
                __piko_spec $cmd
            else
                set -a args $w
            end
        end
    end

    # What the names of a kind depend on: the environment for its services, else the first
    # argument (a create's name says whose branches and environments).
    set -l context $args[1]
    for i in (seq (count $__piko_args))
        if string match -q -- '@envs*' $__piko_args[$i]
            set context $args[$i]
            break
        end
    end

    if test -n "$pending"
        test "$pending" = @envs; and set context "$cur"
        __piko_values $pending $context
        return
    end
    if test -z "$dashdash"; and string match -q -- '--*=*' "$cur"
        set -l pair (string split -m 1 = -- "$cur")
        set -l kind (__piko_flag_kind $pair[1])
        if test -n "$kind"; and test "$kind" != -
            test "$kind" = @envs; and set context $pair[2]
            for value in (__piko_values $kind $context)
                echo "$pair[1]=$value"
            end
        end
        return
    end
    if test -z "$dashdash"; and string match -q -- '-*' "$cur"
        __piko_options
        return
    end
    if test (count $args) -eq 0; and test (count $__piko_subs) -gt 0
        for i in (seq (count $__piko_subs))
            printf '%s\\t%s\\n' $__piko_subs[$i] $__piko_subd[$i]
        end
        # A command with subcommands may take an argument of its own instead (\`config [env]\`).
        test (count $__piko_args) -gt 0; or return
    end
    set -l n (count $__piko_args)
    set -l kind ''
    if test (count $args) -lt $n
        set kind $__piko_args[(math (count $args) + 1)]
    else if test $n -gt 0; and string match -q -- '*...' $__piko_args[-1]
        set kind $__piko_args[-1]
    end
    if test -z "$kind"
        # Nothing more to name: what is left to add are options.
        test -z "$dashdash"; and __piko_options
        return
    end
    set kind (string replace -r -- '\\.\\.\\.$' '' $kind)
    test "$kind" = @envs; and set context "$cur"
    __piko_values $kind $context
end

complete -c piko -f -a '(__piko_complete)'
`;
}
