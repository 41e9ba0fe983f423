"""Shell completion scripts, generated from the argparse tree so they never fall behind it.

`command_tree` walks the parser into ``{"get rollout": Entry(subcommands, flags, names)}``; each
shell's script is a lookup in that table keyed by the command words typed so far. Rollout and
experiment names are completed by asking the plugin itself (``list ... -o name``).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

__all__ = ["Entry", "bash_script", "command_tree", "fish_script", "zsh_script"]

PROG = "kubectl-rollouts"


@dataclass(frozen=True)
class Entry:
    subcommands: tuple[str, ...]
    flags: tuple[str, ...]
    names: str = ""  # "rollouts" | "experiments" | "" : what the NAME argument is


def _names_kind(path: tuple[str, ...], parser: argparse.ArgumentParser) -> str:
    takes_name = any(a.dest == "name" and not a.option_strings for a in parser._actions)
    if not takes_name:
        return ""
    if path and path[-1] in ("experiment", "exp", "experiments"):
        return "experiments"
    if path and path[-1] in ("analysisrun", "ar", "analysisruns"):
        return ""
    return "rollouts"


def command_tree(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> dict[str, Entry]:
    tree: dict[str, Entry] = {}
    subcommands: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            seen: set[int] = set()
            for name, child in action.choices.items():
                subcommands.append(name)
                if id(child) not in seen:
                    seen.add(id(child))
                    tree.update(command_tree(child, (*path, name)))
                else:  # an alias: same entry under the alias name
                    original = next(k for k, v in action.choices.items() if v is child)
                    prefix = " ".join((*path, original))
                    for key, entry in list(tree.items()):
                        if key == prefix or key.startswith(prefix + " "):
                            tree[" ".join((*path, name)) + key[len(prefix) :]] = entry
    flags = tuple(
        option for action in parser._actions for option in action.option_strings if option.startswith("--")
    )
    tree[" ".join(path)] = Entry(tuple(subcommands), flags, _names_kind(path, parser))
    return dict(sorted(tree.items()))


def _words(values: tuple[str, ...]) -> str:
    return " ".join(values)


def bash_script(tree: dict[str, Entry]) -> str:
    cases = []
    for key, entry in tree.items():
        listing = (
            f'"$({PROG} list {entry.names} -o name 2>/dev/null | sed "s#.*/##")"' if entry.names else '""'
        )
        cases.append(
            f'        "{key}") words="{_words(entry.subcommands + entry.flags)}"; names={listing} ;;'
        )
    body = "\n".join(cases)
    return f"""# bash completion for kubectl rollouts; load with: source <({PROG} completion bash)
_kubectl_rollouts() {{
    local cur path="" word words names i start=1
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    [[ "${{COMP_WORDS[0]}}" == kubectl ]] && start=2
    for ((i = start; i < COMP_CWORD; i++)); do
        word="${{COMP_WORDS[i]}}"
        [[ "$word" == -* ]] && continue
        if _kubectl_rollouts_known "${{path:+$path }}$word"; then path="${{path:+$path }}$word"; fi
    done
    case "$path" in
{body}
        *) words=""; names="" ;;
    esac
    COMPREPLY=($(compgen -W "$words $names" -- "$cur"))
}}
_kubectl_rollouts_known() {{
    case "$1" in
{chr(10).join(f'        "{key}") return 0 ;;' for key in tree if key)}
    esac
    return 1
}}
complete -F _kubectl_rollouts {PROG}
complete -F _kubectl_rollouts kubectl_complete-rollouts
"""


def zsh_script(tree: dict[str, Entry]) -> str:
    return f"""#compdef {PROG}
# zsh completion for kubectl rollouts; load with: source <({PROG} completion zsh)
autoload -U +X bashcompinit && bashcompinit
{bash_script(tree)}"""


def fish_script(tree: dict[str, Entry]) -> str:
    lines = [f"# fish completion for kubectl rollouts; load with: {PROG} completion fish | source"]
    lines.append(f"complete -c {PROG} -f")
    for key, entry in tree.items():
        words = key.split()
        if words:
            condition = f"__fish_seen_subcommand_from {words[-1]}"
            if len(words) > 1:
                condition = f"__fish_seen_subcommand_from {words[-2]}; and {condition}"
        else:
            condition = "__fish_use_subcommand"
        for sub in entry.subcommands:
            lines.append(f"complete -c {PROG} -n '{condition}' -a {sub}")
        for flag in entry.flags:
            lines.append(f"complete -c {PROG} -n '{condition}' -l {flag[2:]}")
        if entry.names:
            names = f"{PROG} list {entry.names} -o name 2>/dev/null | string replace -r '.*/' ''"
            lines.append(f"complete -c {PROG} -n '{condition}' -a \"({names})\"")
    return "\n".join(lines) + "\n"
