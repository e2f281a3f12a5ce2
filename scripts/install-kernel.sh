#!/usr/bin/env bash
# Register the tslab Jupyter kernel so that plain `jupyter nbconvert --execute` and Jupyter's UI run
# moelab's notebooks with nothing set by hand (docs/notebooks.md). The kernel spec carries:
#   - argv: this Node binary running this checkout's tslab (no `tslab` on PATH needed);
#   - env:  NODE_OPTIONS='--import tsx --conditions=moelab-source' (the cells' `require("moelab")`
#           loads src/index.ts through tsx) and PATH with node_modules/.bin.
# Cells type-check against node_modules/@types/moelab, which `scripts/run-notebooks.sh --prepare`
# writes (setup.sh --notebooks runs it after this script).
#
#   scripts/install-kernel.sh [--prefix DIR]   (default: Jupyter's system prefix, /usr/local)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
prefix=/usr/local
[ "${1:-}" = --prefix ] && prefix="$2"
tslab="$root/node_modules/tslab/bin/tslab"
[ -f "$tslab" ] || { echo "install-kernel: $tslab missing: run npm ci first" >&2; exit 1; }
node="$(command -v node)"
spec="$(mktemp -d)/tslab"
trap 'rm -rf "$(dirname "$spec")"' EXIT
mkdir -p "$spec"
NODE_BIN="$node" TSLAB="$tslab" ROOT="$root" PATH_VALUE="$root/node_modules/.bin:$(dirname "$node"):/usr/local/bin:/usr/bin:/bin" \
  "$node" -e '
    const spec = {
      argv: [process.env.NODE_BIN, process.env.TSLAB, "kernel", "--config-path", "{connection_file}"],
      display_name: "TypeScript",
      language: "typescript",
      env: { NODE_OPTIONS: "--import tsx --conditions=moelab-source", PATH: process.env.PATH_VALUE },
    };
    require("fs").writeFileSync(process.argv[1], JSON.stringify(spec, null, 2) + "\n");
  ' "$spec/kernel.json"
/usr/bin/python3 -c '
import sys
from jupyter_client.kernelspec import KernelSpecManager
print(KernelSpecManager().install_kernel_spec(sys.argv[1], "tslab", prefix=sys.argv[2]))
' "$spec" "$prefix"
