#!/usr/bin/env bash
# Build the optional native matmul addon (native/matmul.c → native/build/moelab_native.node), a
# Node-API module over OpenBLAS `cblas_sgemm` that the engine registers as the wasm backend's
# BatchMatMul kernel (issue #10). Needs a C compiler, Debian `libopenblas-dev` and the Node-API
# headers (npm devDependency `node-api-headers`, or the nodejs headers in /usr/include/node).
#
#   scripts/build-native.sh           build if the source changed (idempotent)
#   scripts/build-native.sh --force   rebuild
#
# Exit status: 0 built or up to date; 3 prerequisites missing (message says which; the engine
# then runs pure wasm); 1 the compiler failed.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[build-native] %s\n' "$*"; }
force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    *) echo "build-native.sh: unknown option $arg (use --force)" >&2; exit 2 ;;
  esac
done

src=native/matmul.c
out=native/build/moelab_native.node
stamp=native/build/.source-hash

cc_bin="${CC:-cc}"
if ! command -v "$cc_bin" >/dev/null 2>&1; then
  log "no C compiler ($cc_bin) found: native matmul not built; the engine will use pure wasm. Fix: apt-get install -y gcc"
  exit 3
fi

napi_inc=""
for dir in node_modules/node-api-headers/include /usr/include/node /usr/local/include/node; do
  if [ -f "$dir/node_api.h" ]; then napi_inc="$dir"; break; fi
done
if [ -z "$napi_inc" ]; then
  log "Node-API headers not found: native matmul not built; the engine will use pure wasm. Fix: npm install (devDependency node-api-headers)"
  exit 3
fi

# The openblas cblas.h declares openblas_set_num_threads; the reference BLAS one does not.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '#include <cblas.h>\nint main(void){openblas_set_num_threads(1);float a=1,b=1,c=0;cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,1,1,1,1.0f,&a,1,&b,1,0.0f,&c,1);return c==1.0f?0:1;}\n' > "$probe/t.c"
if ! "$cc_bin" "$probe/t.c" -o "$probe/t" -lopenblas >/dev/null 2>&1 || ! "$probe/t"; then
  log "OpenBLAS (cblas.h + libopenblas) not found: native matmul not built; the engine will use pure wasm. Fix: scripts/setup.sh --blas (apt-get install -y libopenblas-dev)"
  exit 3
fi

hash=$( (cat "$src" "$0"; "$cc_bin" --version | head -1; node -p process.versions.napi) | sha256sum | cut -c1-16)
if [ $force = 0 ] && [ -f "$out" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
  log "up to date ($out)"
  exit 0
fi

mkdir -p native/build
# Node resolves the napi_* symbols from its own binary when it loads the addon, so the shared
# object is linked with them undefined (the default for -shared on Linux).
# -fno-math-errno lets sqrtf vectorise (sqrt of a negative is NaN either way, as in wasm).
if ! "$cc_bin" -std=c11 -O3 -fno-math-errno -fno-trapping-math -ffp-contract=off -fPIC -shared -Wall -Wextra -Werror \
  -DNODE_GYP_MODULE_NAME=moelab_native -I"$napi_inc" \
  "$src" -o "$out.tmp" -lopenblas -lm; then
  rm -f "$out.tmp"
  log "compile failed: native matmul not built; the engine will use pure wasm"
  exit 1
fi
mv "$out.tmp" "$out"
echo "$hash" > "$stamp"
log "built $out ($(node -p "require('./$out').config()"))"
