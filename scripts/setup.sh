#!/usr/bin/env bash
# Install everything moelab needs on a fresh Debian machine: npm packages (lockfile), and, when
# asked, the Debian packages behind optional features. Idempotent: re-running skips what is there.
#
#   scripts/setup.sh            npm packages only
#   scripts/setup.sh --all      + every Debian package the test suite uses
#   scripts/setup.sh --report   + chromium (static figure export)
#   scripts/setup.sh --notebooks + Debian Jupyter (nbclient, notebook server) and the tslab kernel
#   scripts/setup.sh --blas     + libopenblas-dev (then the native matmul addon is built)
#   scripts/setup.sh --gpu      + Mesa's software Vulkan driver (lavapipe) from bookworm-backports, so
#                                 the webgpu backend runs (slowly, for correctness) without a GPU
# The native matmul addon (scripts/build-native.sh) is built on every run where cc + OpenBLAS exist.
set -euo pipefail
cd "$(dirname "$0")/.."

want_report=0; want_notebooks=0; want_slurm=0; want_blas=0; want_gpu=0
for arg in "$@"; do
  case "$arg" in
    --all) want_report=1; want_notebooks=1; want_slurm=1; want_blas=1; want_gpu=1 ;;
    --gpu) want_gpu=1 ;;
    --report) want_report=1 ;;
    --notebooks) want_notebooks=1 ;;
    --slurm) want_slurm=1 ;;
    --blas) want_blas=1 ;;
    *) echo "setup.sh: unknown option $arg (use --all, --report, --notebooks, --slurm, --blas, --gpu)" >&2; exit 2 ;;
  esac
done

log() { printf '[setup] %s\n' "$*"; }

# --- npm packages -------------------------------------------------------------------------------
lock_hash=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f node_modules/.moelab-lock-hash ] || [ "$(cat node_modules/.moelab-lock-hash)" != "$lock_hash" ]; then
  log "npm ci (the optional @tensorflow/tfjs-node[-gpu] download libtensorflow; without internet npm drops them)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.moelab-lock-hash
else
  log "npm packages up to date"
fi

# --- Debian packages ----------------------------------------------------------------------------
apt_pkgs=()
need() { dpkg -s "$1" >/dev/null 2>&1 || apt_pkgs+=("$1"); }
[ $want_report = 1 ] && need chromium
[ $want_notebooks = 1 ] && { need jupyter-nbconvert; need jupyter-client; need python3-ipykernel; need python3-nbclient; need jupyter-notebook; }
[ $want_slurm = 1 ] && { need slurmd; need slurmctld; need slurm-client; need munge; }
[ $want_blas = 1 ] && { need libopenblas-dev; }
if [ ${#apt_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null; then
    log "missing Debian packages: ${apt_pkgs[*]} (run as root or install them yourself)"; exit 1
  fi
  SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo"
  log "apt-get install ${apt_pkgs[*]}"
  $SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
fi

# --- software Vulkan for the webgpu backend ------------------------------------------------------
# Dawn (npm `webgpu`) rejects bookworm's Mesa 22.3 lavapipe (missing dynamic-indexing features);
# bookworm-backports carries Mesa 25, which it accepts. A machine with a GPU driver needs none of
# this (its driver's Vulkan ICD is used); `moelab env --backend webgpu` shows the adapter.
mesa_major() { dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | cut -d. -f1; }
if [ $want_gpu = 1 ]; then
  if [ "$(mesa_major || true)" != "" ] && [ "$(mesa_major)" -ge 24 ] && dpkg -s libvulkan1 >/dev/null 2>&1; then
    log "Mesa $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) lavapipe installed"
  elif [ -r /etc/os-release ] && grep -q '^VERSION_CODENAME=bookworm' /etc/os-release; then
    if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null; then
      log "Mesa ≥ 24 lavapipe missing (run as root or install mesa-vulkan-drivers from bookworm-backports yourself)"; exit 1
    fi
    SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo"
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      log "adding Debian bookworm-backports to apt sources"
      printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
        $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
    fi
    log "apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1"
    $SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends \
      -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
  else
    log "--gpu: not Debian bookworm; install Mesa ≥ 24 mesa-vulkan-drivers (lavapipe) and libvulkan1 from your distribution"
  fi
fi

# --- tslab Jupyter kernel ------------------------------------------------------------------------
# Registered for Debian's /usr/bin/python3 (the one /usr/bin/jupyter runs) by
# scripts/install-kernel.sh: the spec runs this checkout's tslab with NODE_OPTIONS and PATH in its
# env, so plain `jupyter nbconvert --execute` and Jupyter's UI work; then the declarations the
# cells type-check against are written (docs/notebooks.md). An existing tslab kernel is left as it
# is (it may belong to another checkout): `bash scripts/install-kernel.sh` replaces it.
if [ $want_notebooks = 1 ]; then
  if /usr/bin/python3 -c 'import sys; from jupyter_client.kernelspec import KernelSpecManager as K; sys.exit(0 if "tslab" in K().find_kernel_specs() else 1)' 2>/dev/null; then
    log "tslab kernel registered"
  else
    log "registering the tslab kernel (scripts/install-kernel.sh)"
    bash scripts/install-kernel.sh
    bash scripts/run-notebooks.sh --prepare
  fi
fi

# --- optional native matmul (issue #10) ---------------------------------------------------------
# Built whenever a C compiler and OpenBLAS are present (--blas installs OpenBLAS); otherwise the
# engine runs pure wasm and `moelab env` says why. A failed build never fails the setup.
build_status=0
bash scripts/build-native.sh || build_status=$?
[ $build_status = 0 ] || log "native matmul unavailable (build-native.sh exit $build_status): continuing with pure wasm"
log "done"
