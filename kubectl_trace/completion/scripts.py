"""Completion scripts for running the executables directly (``kubectl-nodeapp …``).

Through kubectl (``kubectl nodeapp …``) nothing is needed beyond the
``kubectl_complete-nodeapp*`` executables on PATH and kubectl's own completion.
Each script calls the matching completer and understands its ``:DIRECTIVE`` line.
"""

from __future__ import annotations

__all__ = ["SCRIPTS"]

_PROGRAMS = "kubectl-nodeapp kubectl-nodeapp-logs kubectl-nodeapp-shell kubectl-nodeapp-events kubectl-nodeapp-rollout"

BASH = (
    r"""# bash completion for kubectl-nodeapp — load with:  source <(kubectl-nodeapp completion bash)
_kubectl_nodeapp() {
    local prog="${COMP_WORDS[0]##*/}" cur="${COMP_WORDS[COMP_CWORD]}" out last line
    out=$("${prog/kubectl-nodeapp/kubectl_complete-nodeapp}" "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return
    last=${out##*$'\n'}
    [ "$last" = "$out" ] && out="" || out=${out%$'\n'*}
    COMPREPLY=()
    while IFS= read -r line; do
        [ -n "$line" ] && COMPREPLY+=("${line%%$'\t'*}")
    done <<< "$out"
    if [ ${#COMPREPLY[@]} -eq 0 ] && [ $(( ${last#:} & 4 )) -eq 0 ]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
complete -F _kubectl_nodeapp """
    + _PROGRAMS
    + "\n"
)

ZSH = (
    r"""#compdef """
    + _PROGRAMS
    + r"""
# zsh completion for kubectl-nodeapp — load with:  source <(kubectl-nodeapp completion zsh)
_kubectl_nodeapp() {
    local prog=${words[1]:t} out directive
    local -a lines cands
    out=$("${prog/kubectl-nodeapp/kubectl_complete-nodeapp}" "${(@)words[2,CURRENT]}" 2>/dev/null) || return
    lines=("${(@f)out}")
    directive=${lines[-1]#:}
    lines=("${(@)lines[1,-2]}")
    cands=()
    local l
    for l in $lines; do cands+=("${l//:/\\:}"); done
    cands=("${(@)cands//$'\t'/:}")
    if (( ${#cands} )); then
        _describe 'nodeapp' cands
    elif (( (directive & 4) == 0 )); then
        _files
    fi
}
compdef _kubectl_nodeapp """
    + _PROGRAMS
    + "\n"
)

FISH = (
    "# fish completion for kubectl-nodeapp — load with:  kubectl-nodeapp completion fish | source\n"
    + "".join(
        f"complete -c {prog} -f -a '({prog.replace('kubectl-nodeapp', 'kubectl_complete-nodeapp')} "
        '(commandline -opc)[2..-1] (commandline -ct) 2>/dev/null | string match -v -r "^:[0-9]+$")\'\n'
        for prog in _PROGRAMS.split()
    )
)

SCRIPTS = {"bash": BASH, "zsh": ZSH, "fish": FISH}
