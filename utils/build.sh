#!/usr/bin/env bash
# The README's first command: install what is missing, build nats into
# build/, then run the main job (the example NAtS-L layer graph).
set -euo pipefail
cd "$(dirname "$0")/.."

utils/install-deps.sh

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
cmake --build build

utils/main-job.sh
