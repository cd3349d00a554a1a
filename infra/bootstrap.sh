#!/usr/bin/env bash
# Creates .venv with the template's Python (3.12) when the machine has it, and installs requirements/dev.txt
# only when it changed (a stamp holds its hash), so `make run` and `make test` are one command on a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."
want="3.12"
pick_python() {
  # A pyenv shim can exist and still refuse to run: try each candidate for real.
  for candidate in "python${want}" "$HOME/.pyenv/versions/${want}"*/bin/python${want} \
                   /usr/local/bin/python${want} /usr/bin/python${want}; do
    if "$candidate" -c 'import venv, ensurepip' >/dev/null 2>&1; then echo "$candidate"; return; fi
  done
  echo "WARNING: Python ${want} (the template's runtime) not found; falling back to $(python3 --version)." >&2
  echo python3
}
if [ ! -x .venv/bin/python ]; then
  py=$(pick_python)
  echo "Creating .venv with $($py --version 2>&1)"
  "$py" -m venv .venv
fi
stamp=.venv/.requirements.sha
want_hash=$(cat requirements/dev.txt layers/common/python/requirements.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want_hash" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  .venv/bin/python -m pip install -q -r requirements/dev.txt
  echo "$want_hash" > "$stamp"
fi
# Swagger UI's script and stylesheet into the docs function (served by it, never from a CDN).
.venv/bin/python -m infra.openapi --assets
