#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter for the NLU environment (rasa 3.6 needs Python < 3.11).
# Looks on PATH, then under pyenv, then in the usual system places. Fails with what to install.
set -u
is310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }
candidates=()
[ -n "${NLU_PYTHON:-}" ] && candidates+=("$NLU_PYTHON")
command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
root="${PYENV_ROOT:-$HOME/.pyenv}"
command -v pyenv >/dev/null 2>&1 && root="$(pyenv root 2>/dev/null || echo "$root")"
for d in "$root"/versions/3.10*; do [ -x "$d/bin/python3.10" ] && candidates+=("$d/bin/python3.10"); done
candidates+=(/usr/bin/python3.10 /usr/local/bin/python3.10)
for c in "${candidates[@]}"; do
  # pyenv shims may exist without the version behind them: resolve and test each candidate
  if [ -x "$c" ] && is310 "$c"; then
    real="$("$c" -c 'import sys; print(sys.executable)')"
    echo "$real"; exit 0
  fi
done
cat >&2 <<'MSG'
error: no Python 3.10 found (the NLU service, rasa 3.6, needs Python 3.10).
Install one, then run make again:
  - with pyenv:  pyenv install 3.10.13
  - on Debian/Ubuntu with the deadsnakes PPA or a distribution that has it:  apt-get install python3.10 python3.10-venv
  - or point NLU_PYTHON at a Python 3.10 interpreter:  make setup NLU_PYTHON=/path/to/python3.10
MSG
exit 1
