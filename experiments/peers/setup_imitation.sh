#!/usr/bin/env bash
# Creates (or updates) the peer venv for experiments/peers/imitation_gail.py. Idempotent: rerunning
# it only installs what is missing. Run from anywhere: bash experiments/peers/setup_imitation.sh
# PYTHON picks the interpreter (default python3), TORCH the torch build (default torch==2.13.0, the
# CPU wheel this project's machines carry; as in the Makefile).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv-imitation"
PYTHON="${PYTHON:-python3}"
TORCH="${TORCH:-torch==2.13.0}"
[ -x "$venv/bin/python" ] || "$PYTHON" -m venv "$venv"
"$venv/bin/python" -m pip install -q "$TORCH"
"$venv/bin/python" -m pip install -q -r "$here/requirements-imitation.txt"
"$venv/bin/python" -m pip check
"$venv/bin/python" -c "import imitation, gymnasium, stable_baselines3, mujoco, torch; \
print('imitation', imitation.__version__, 'gymnasium', gymnasium.__version__, 'sb3', \
stable_baselines3.__version__, 'mujoco', mujoco.__version__, 'torch', torch.__version__)"
