#!/usr/bin/env bash
# Installs what building and testing nats needs and is not there yet:
# LLVM/MLIR 22 from Debian's packages, the build tools, and the Python test
# tools from PyPI. Safe to run again: it installs only what is missing.
set -euo pipefail

apt_packages=(llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools
              cmake ninja-build ccache g++)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if ((${#missing[@]})); then
  echo "== installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) == 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq \
    "${missing[@]}" >/dev/null
fi

python_packages=(numpy pytest lit ml_dtypes)
for p in "${python_packages[@]}"; do
  python3 -c "import $p" 2>/dev/null || {
    echo "== installing $p (PyPI)"
    python3 -m pip install -q --disable-pip-version-check "$p"
  }
done
