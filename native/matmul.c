/*
 * moelab native matmul: a small Node-API addon over OpenBLAS `cblas_sgemm` (issue #10).
 *
 * The TF.js wasm backend keeps every tensor in one WebAssembly heap. src/engine/native-matmul.ts
 * registers a BatchMatMul kernel that passes this addon a Float32Array view of that heap plus
 * element offsets, so the product is computed in place on the wasm tensors: no copies in or out.
 * Every offset is bounds-checked against the view before OpenBLAS touches memory.
 *
 * Exports:
 *   sgemm(heap, transA, transB, m, n, k, aOff, bOff, cOff, batch, aStride, bStride, cStride)
 *     For i in [0, batch): C_i = op(A_i) · op(B_i), row-major, where op(X) = Xᵀ if trans.
 *     A_i starts at heap[aOff + i·aStride] (m×k, or k×m stored when transA), B_i at
 *     heap[bOff + i·bStride] (k×n, or n×k stored when transB), C_i at heap[cOff + i·cStride]
 *     (m×n). A stride of 0 broadcasts that operand over the batch.
 *   sgemmGrouped(heap, transA, transB, spec)
 *     Groups of products of different shapes in one call: spec (Float64Array) holds m, n, k, aOff,
 *     bOff, cOff per group; C_g = op(A_g) · op(B_g) as above; k = 0 writes zeros.
 *   transpose(heap, xOff, outOff, A, B, C, D)
 *     out[a][c][b][d] = x[a][b][c][d] for 4-byte elements (float32 or int32 views of the heap):
 *     the form every transpose of the model reduces to (2-D, batched 2-D, [0,2,1,3]). Tiled so
 *     reads and writes both stay in cache; wasm's own Transpose walks [2048, 512] at ~0.4 GB/s.
 *   unary(op, heap, xOff, outOff, n)
 *     out[i] = f(x[i]) for n float32 elements; op 0 = exp, 1 = sqrt. The wasm binary's scalar
 *     exp and sqrt run at 5-7 ns per element; glibc's expf and a vectorised sqrt are several
 *     times faster (softmax/cross-entropy exps; AdamW's sqrt over every parameter each step).
 *   fusedRmsNorm, fusedRmsNormGrad, fusedSwiglu, fusedSwigluGrad, fusedSoftmaxXent, fusedAdamW,
 *   fusedSumSquares, fusedSoftmaxGrad, fusedGatherRows, fusedScatterAddRows, fusedRope, fusedRopeGrad,
 *   fusedAdamWMulti, fusedSumSquaresMulti, fusedAdd
 *     Fused elementwise chains on heap offsets (src/engine/fused-kernels.ts documents them).
 *   setThreads(n) / getThreads(): OpenBLAS thread count.
 *   config(): OpenBLAS build string (version, kernel, max threads).
 *
 * Build: scripts/build-native.sh (cc + libopenblas-dev + Node-API headers).
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Elementwise and data-movement kernels are compiled three times (AVX-512, AVX2, baseline x86-64)
 * and the loader picks the widest the CPU has (GCC/Clang function multiversioning), so one build
 * runs on any x86-64 node of a cluster. The clones compute the same bits: no FMA contraction
 * (-ffp-contract=off), no reassociation, and IEEE-exact vector division and sqrt. On this
 * machine's Xeon the AVX-512 clone runs SwiGLU 2.5x faster than the baseline (docs/BENCHMARKS.md,
 * "Training speed III"). */
#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
/* (Not `static`; the property table holds plain wrappers that call these.) */
#define MOELAB_KERNEL __attribute__((visibility("hidden"), target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef MOELAB_KERNEL
#define MOELAB_KERNEL static
#endif

#define CHECK_NAPI(env, call)                                        \
  do {                                                               \
    if ((call) != napi_ok) {                                         \
      napi_throw_error((env), NULL, "moelab native: " #call " failed"); \
      return NULL;                                                   \
    }                                                                \
  } while (0)

static int get_i64(napi_env env, napi_value v, int64_t *out, const char *name) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || d != (double)(int64_t)d || d < 0) {
    char msg[128];
    snprintf(msg, sizeof msg, "moelab native sgemm: %s must be a non-negative integer", name);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  *out = (int64_t)d;
  return 1;
}

/* Highest element index + 1 touched by `batch` matrices of `elems` elements at `off`, `stride`. */
static int64_t extent(int64_t off, int64_t batch, int64_t stride, int64_t elems) {
  return off + (batch - 1) * stride + elems;
}

static napi_value sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  CHECK_NAPI(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 13) {
    napi_throw_type_error(env, NULL, "moelab native sgemm: expected 13 arguments");
    return NULL;
  }

  napi_typedarray_type type;
  size_t length;
  void *data;
  napi_value buffer;
  size_t byte_offset;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, &buffer, &byte_offset) != napi_ok ||
      type != napi_float32_array) {
    napi_throw_type_error(env, NULL, "moelab native sgemm: heap must be a Float32Array");
    return NULL;
  }
  bool trans_a, trans_b;
  CHECK_NAPI(env, napi_get_value_bool(env, argv[1], &trans_a));
  CHECK_NAPI(env, napi_get_value_bool(env, argv[2], &trans_b));

  static const char *names[] = {"m", "n", "k", "aOff", "bOff", "cOff", "batch", "aStride", "bStride", "cStride"};
  int64_t v[10];
  for (int i = 0; i < 10; i++) {
    if (!get_i64(env, argv[3 + i], &v[i], names[i])) return NULL;
  }
  const int64_t m = v[0], n = v[1], k = v[2], a_off = v[3], b_off = v[4], c_off = v[5];
  const int64_t batch = v[6], a_stride = v[7], b_stride = v[8], c_stride = v[9];
  if (m == 0 || n == 0 || batch == 0) return NULL;
  if (k == 0 || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) {
    napi_throw_range_error(env, NULL, "moelab native sgemm: k must be in [1, 2^31) and m, n below 2^31");
    return NULL;
  }
  const int64_t len = (int64_t)length;
  if (extent(a_off, batch, a_stride, m * k) > len || extent(b_off, batch, b_stride, k * n) > len ||
      extent(c_off, batch, c_stride, m * n) > len) {
    napi_throw_range_error(env, NULL, "moelab native sgemm: an operand extends past the end of the heap view");
    return NULL;
  }

  float *heap = (float *)data;
  /* Row-major leading dimensions: the stored row length of each operand. */
  const int lda = (int)(trans_a ? m : k);
  const int ldb = (int)(trans_b ? k : n);
  const int ldc = (int)n;
  for (int64_t i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, (int)k, 1.0f, heap + a_off + i * a_stride, lda, heap + b_off + i * b_stride, ldb,
                0.0f, heap + c_off + i * c_stride, ldc);
  }
  return NULL;
}

/* sgemmGrouped(heap, transA, transB, spec): for each group g, spec[6g..6g+5] = m, n, k, aOff, bOff,
 * cOff and C_g = op(A_g) · op(B_g) as in sgemm (row-major, leading dimensions from the shapes and
 * flags); k = 0 writes zeros. One call for all experts of a MoE layer (forward, dx and dW). */
static napi_value sgemm_grouped(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK_NAPI(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 4) {
    napi_throw_type_error(env, NULL, "moelab native sgemmGrouped: expected 4 arguments");
    return NULL;
  }
  napi_typedarray_type type;
  size_t length, spec_len;
  void *data, *spec_data;
  napi_value buffer;
  size_t byte_offset;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, &buffer, &byte_offset) != napi_ok ||
      type != napi_float32_array) {
    napi_throw_type_error(env, NULL, "moelab native sgemmGrouped: heap must be a Float32Array");
    return NULL;
  }
  if (napi_get_typedarray_info(env, argv[3], &type, &spec_len, &spec_data, &buffer, &byte_offset) != napi_ok ||
      type != napi_float64_array || spec_len % 6 != 0) {
    napi_throw_type_error(env, NULL, "moelab native sgemmGrouped: spec must be a Float64Array of 6 numbers per group");
    return NULL;
  }
  bool trans_a, trans_b;
  CHECK_NAPI(env, napi_get_value_bool(env, argv[1], &trans_a));
  CHECK_NAPI(env, napi_get_value_bool(env, argv[2], &trans_b));
  const double *spec = (const double *)spec_data;
  const int64_t len = (int64_t)length;
  const size_t groups = spec_len / 6;
  /* Check every group before computing any. */
  for (size_t g = 0; g < groups; g++) {
    for (int j = 0; j < 6; j++) {
      const double d = spec[6 * g + j];
      if (!(d >= 0 && d == (double)(int64_t)d && d < 9007199254740992.0) || (j < 3 && d > INT32_MAX)) {
        napi_throw_range_error(env, NULL, "moelab native sgemmGrouped: m, n, k must be integers in [0, 2^31) and offsets non-negative integers");
        return NULL;
      }
    }
    const int64_t m = (int64_t)spec[6 * g], n = (int64_t)spec[6 * g + 1], k = (int64_t)spec[6 * g + 2];
    if ((int64_t)spec[6 * g + 3] + m * k > len || (int64_t)spec[6 * g + 4] + k * n > len || (int64_t)spec[6 * g + 5] + m * n > len) {
      napi_throw_range_error(env, NULL, "moelab native sgemmGrouped: an operand extends past the end of the heap view");
      return NULL;
    }
  }
  float *heap = (float *)data;
  for (size_t g = 0; g < groups; g++) {
    const int m = (int)spec[6 * g], n = (int)spec[6 * g + 1], k = (int)spec[6 * g + 2];
    float *c = heap + (int64_t)spec[6 * g + 5];
    if (m == 0 || n == 0) continue;
    if (k == 0) {
      for (int64_t i = 0; i < (int64_t)m * n; i++) c[i] = 0.0f;
      continue;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k, 1.0f,
                heap + (int64_t)spec[6 * g + 3], trans_a ? m : k, heap + (int64_t)spec[6 * g + 4], trans_b ? k : n, 0.0f, c, n);
  }
  return NULL;
}

#define TILE 16

MOELAB_KERNEL napi_value transpose_body(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK_NAPI(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 7) {
    napi_throw_type_error(env, NULL, "moelab native transpose: expected 7 arguments");
    return NULL;
  }
  napi_typedarray_type type;
  size_t length;
  void *data;
  napi_value buffer;
  size_t byte_offset;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, &buffer, &byte_offset) != napi_ok ||
      (type != napi_float32_array && type != napi_int32_array)) {
    napi_throw_type_error(env, NULL, "moelab native transpose: heap must be a Float32Array or Int32Array");
    return NULL;
  }
  static const char *names[] = {"xOff", "outOff", "A", "B", "C", "D"};
  int64_t v[6];
  for (int i = 0; i < 6; i++) {
    if (!get_i64(env, argv[1 + i], &v[i], names[i])) return NULL;
  }
  const int64_t x_off = v[0], out_off = v[1], A = v[2], B = v[3], C = v[4], D = v[5];
  const int64_t total = A * B * C * D;
  if (total == 0) return NULL;
  if (x_off + total > (int64_t)length || out_off + total > (int64_t)length ||
      (x_off < out_off + total && out_off < x_off + total)) {
    napi_throw_range_error(env, NULL, "moelab native transpose: operands overlap or extend past the heap view");
    return NULL;
  }
  const uint32_t *x = (const uint32_t *)data + x_off;
  uint32_t *out = (uint32_t *)data + out_off;
  /* Within a TILE×TILE tile, walk output rows (c) outermost so every write run is contiguous:
   * 6× faster than walking input rows on [2048, 512] here (0.41 vs 2.7 ms). */
  for (int64_t a = 0; a < A; a++) {
    const uint32_t *xa = x + a * B * C * D;
    uint32_t *oa = out + a * B * C * D;
    for (int64_t b0 = 0; b0 < B; b0 += TILE) {
      const int64_t b1 = b0 + TILE < B ? b0 + TILE : B;
      for (int64_t c0 = 0; c0 < C; c0 += TILE) {
        const int64_t c1 = c0 + TILE < C ? c0 + TILE : C;
        for (int64_t c = c0; c < c1; c++) {
          uint32_t *dst = oa + (c * B + b0) * D;
          for (int64_t b = b0; b < b1; b++) {
            const uint32_t *src = xa + (b * C + c) * D;
            for (int64_t d = 0; d < D; d++) dst[d] = src[d];
            dst += D;
          }
        }
      }
    }
  }
  return NULL;
}

MOELAB_KERNEL napi_value unary_body(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK_NAPI(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 5) {
    napi_throw_type_error(env, NULL, "moelab native unary: expected 5 arguments");
    return NULL;
  }
  int64_t op;
  if (!get_i64(env, argv[0], &op, "op")) return NULL;
  napi_typedarray_type type;
  size_t length;
  void *data;
  napi_value buffer;
  size_t byte_offset;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &data, &buffer, &byte_offset) != napi_ok ||
      type != napi_float32_array) {
    napi_throw_type_error(env, NULL, "moelab native unary: heap must be a Float32Array");
    return NULL;
  }
  static const char *names[] = {"xOff", "outOff", "n"};
  int64_t v[3];
  for (int i = 0; i < 3; i++) {
    if (!get_i64(env, argv[2 + i], &v[i], names[i])) return NULL;
  }
  const int64_t x_off = v[0], out_off = v[1], n = v[2];
  if (x_off + n > (int64_t)length || out_off + n > (int64_t)length) {
    napi_throw_range_error(env, NULL, "moelab native unary: an operand extends past the end of the heap view");
    return NULL;
  }
  const float *x = (const float *)data + x_off;
  float *out = (float *)data + out_off;
  if (op == 0) {
    for (int64_t i = 0; i < n; i++) out[i] = expf(x[i]);
  } else if (op == 1) {
    for (int64_t i = 0; i < n; i++) out[i] = sqrtf(x[i]);
  } else {
    napi_throw_range_error(env, NULL, "moelab native unary: op must be 0 (exp) or 1 (sqrt)");
  }
  return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Fused elementwise kernels (src/engine/fused-kernels.ts documents each and holds the JavaScript
 * fallback with the same arithmetic). Arguments: heap, then `ni` element offsets / counts, then
 * `nd` float parameters. Offsets are checked against the heap view by each kernel. */

/* exp for float32 in straight-line arithmetic the compiler can vectorise (glibc's expf is a call
 * per element): x = n·ln2 + r with |r| ≤ ln2/2, e^r by Cephes' degree-6 polynomial, 2^n built in the
 * exponent bits. Within ~2 ulp of expf over [-87.3, 88.7]; below it returns 0 (expf: 0 or a
 * denormal), above it e^88.7 ≈ 3e38 (never inf), which keeps sigmoid exact at both ends. */
static inline float fast_expf(float x0) {
  float x = x0 < -87.3f ? -87.3f : x0;
  x = x > 88.7f ? 88.7f : x;
  const float n = (x * 1.44269504089f + 12582912.0f) - 12582912.0f; /* round to nearest */
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return x0 < -87.3f ? 0.0f : p * scale;
}

typedef struct {
  float *heap;
  int64_t length;
  int64_t i[10];
  double d[8];
} fused_args;

/* The heap argument (a Float32Array view of the wasm memory) into out->heap / out->length. */
static int heap_view(napi_env env, napi_value value, const char *name, fused_args *out) {
  napi_typedarray_type type;
  size_t length, byte_offset;
  void *data;
  napi_value buffer;
  if (napi_get_typedarray_info(env, value, &type, &length, &data, &buffer, &byte_offset) != napi_ok || type != napi_float32_array) {
    char msg[160];
    snprintf(msg, sizeof msg, "moelab native %s: heap must be a Float32Array", name);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  out->heap = (float *)data;
  out->length = (int64_t)length;
  return 1;
}

static int fused_parse(napi_env env, napi_callback_info info, const char *name, size_t ni, size_t nd, fused_args *out) {
  napi_value argv[20];
  size_t argc = 20;
  char msg[160];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 + ni + nd) {
    snprintf(msg, sizeof msg, "moelab native %s: expected %zu arguments", name, 1 + ni + nd);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  if (!heap_view(env, argv[0], name, out)) return 0;
  for (size_t k = 0; k < ni; k++) {
    if (!get_i64(env, argv[1 + k], &out->i[k], "offset or size")) return 0;
  }
  for (size_t k = 0; k < nd; k++) {
    if (napi_get_value_double(env, argv[1 + ni + k], &out->d[k]) != napi_ok) {
      snprintf(msg, sizeof msg, "moelab native %s: parameter %zu must be a number", name, k);
      napi_throw_type_error(env, NULL, msg);
      return 0;
    }
  }
  return 1;
}

/* 1 when [off, off + n) lies in the heap view, else throws and returns 0. */
static int in_heap(napi_env env, const fused_args *a, int64_t off, int64_t n, const char *name) {
  if (off + n <= a->length) return 1;
  char msg[160];
  snprintf(msg, sizeof msg, "moelab native %s: an operand extends past the end of the heap view", name);
  napi_throw_range_error(env, NULL, msg);
  return 0;
}

/* fusedRmsNorm(heap, xOff, gOff, yOff, rOff, rows, width, eps) */
MOELAB_KERNEL napi_value fused_rmsnorm_body(napi_env env, napi_callback_info info) {
  fused_args a;
  if (!fused_parse(env, info, "fusedRmsNorm", 6, 1, &a)) return NULL;
  const int64_t xo = a.i[0], go = a.i[1], yo = a.i[2], ro = a.i[3], rows = a.i[4], w = a.i[5];
  if (!in_heap(env, &a, xo, rows * w, "fusedRmsNorm") || !in_heap(env, &a, yo, rows * w, "fusedRmsNorm") ||
      !in_heap(env, &a, go, w, "fusedRmsNorm") || !in_heap(env, &a, ro, rows, "fusedRmsNorm") || w == 0)
    return NULL;
  float *h = a.heap;
  const double eps = a.d[0];
  for (int64_t i = 0; i < rows; i++) {
    const float *x = h + xo + i * w;
    double ss = 0;
    for (int64_t j = 0; j < w; j++) ss += (double)x[j] * x[j];
    const float r = (float)(1.0 / sqrt(ss / (double)w + eps));
    h[ro + i] = r;
    float *y = h + yo + i * w;
    const float *g = h + go;
    for (int64_t j = 0; j < w; j++) y[j] = (x[j] * r) * g[j];
  }
  return NULL;
}

/* fusedRmsNormGrad(heap, dyOff, xOff, rOff, gOff, dxOff, dgOff, rows, width) */
MOELAB_KERNEL napi_value fused_rmsnorm_grad_body(napi_env env, napi_callback_info info) {
  fused_args a;
  const char *nm = "fusedRmsNormGrad";
  if (!fused_parse(env, info, nm, 8, 0, &a)) return NULL;
  const int64_t dyo = a.i[0], xo = a.i[1], ro = a.i[2], go = a.i[3], dxo = a.i[4], dgo = a.i[5], rows = a.i[6], w = a.i[7];
  if (!in_heap(env, &a, dyo, rows * w, nm) || !in_heap(env, &a, xo, rows * w, nm) || !in_heap(env, &a, ro, rows, nm) ||
      !in_heap(env, &a, go, w, nm) || !in_heap(env, &a, dxo, rows * w, nm) || !in_heap(env, &a, dgo, w, nm) || w == 0)
    return NULL;
  double *dg = calloc((size_t)w, sizeof(double));
  if (!dg) {
    napi_throw_error(env, NULL, "moelab native fusedRmsNormGrad: out of memory");
    return NULL;
  }
  float *h = a.heap;
  const float *g = h + go;
  for (int64_t i = 0; i < rows; i++) {
    const float *x = h + xo + i * w;
    const float *dy = h + dyo + i * w;
    const float r = h[ro + i];
    double dot = 0;
    for (int64_t j = 0; j < w; j++) {
      const float xhat = x[j] * r;
      dot += (double)dy[j] * g[j] * xhat;
      dg[j] += (double)dy[j] * xhat;
    }
    const double mean = dot / (double)w;
    float *dx = h + dxo + i * w;
    for (int64_t j = 0; j < w; j++) {
      const float xhat = x[j] * r;
      dx[j] = (float)(r * ((double)dy[j] * g[j] - xhat * mean));
    }
  }
  for (int64_t j = 0; j < w; j++) h[dgo + j] = (float)dg[j];
  free(dg);
  return NULL;
}

/* fusedSwiglu(heap, aOff, bOff, hOff, n) */
MOELAB_KERNEL napi_value fused_swiglu_body(napi_env env, napi_callback_info info) {
  fused_args a;
  const char *nm = "fusedSwiglu";
  if (!fused_parse(env, info, nm, 4, 0, &a)) return NULL;
  const int64_t ao = a.i[0], bo = a.i[1], ho = a.i[2], n = a.i[3];
  if (!in_heap(env, &a, ao, n, nm) || !in_heap(env, &a, bo, n, nm) || !in_heap(env, &a, ho, n, nm)) return NULL;
  /* Distinct tensors of the heap: restrict lets the loop vectorise. */
  const float *restrict av = a.heap + ao, *restrict bv = a.heap + bo;
  float *restrict hv = a.heap + ho;
  for (int64_t i = 0; i < n; i++) {
    const float x = av[i];
    hv[i] = (x / (1.0f + fast_expf(-x))) * bv[i];
  }
  return NULL;
}

/* fusedSwigluGrad(heap, dyOff, aOff, bOff, daOff, dbOff, n) */
MOELAB_KERNEL napi_value fused_swiglu_grad_body(napi_env env, napi_callback_info info) {
  fused_args a;
  const char *nm = "fusedSwigluGrad";
  if (!fused_parse(env, info, nm, 6, 0, &a)) return NULL;
  const int64_t dyo = a.i[0], ao = a.i[1], bo = a.i[2], dao = a.i[3], dbo = a.i[4], n = a.i[5];
  if (!in_heap(env, &a, dyo, n, nm) || !in_heap(env, &a, ao, n, nm) || !in_heap(env, &a, bo, n, nm) ||
      !in_heap(env, &a, dao, n, nm) || !in_heap(env, &a, dbo, n, nm))
    return NULL;
  const float *restrict av = a.heap + ao, *restrict bv = a.heap + bo, *restrict dyv = a.heap + dyo;
  float *restrict dav = a.heap + dao, *restrict dbv = a.heap + dbo;
  for (int64_t i = 0; i < n; i++) {
    const float x = av[i];
    const float s = 1.0f / (1.0f + fast_expf(-x));
    const float dy = dyv[i];
    dav[i] = dy * bv[i] * s * (1.0f + x * (1.0f - s));
    dbv[i] = dy * x * s;
  }
  return NULL;
}

/* fusedSoftmaxXent(heap, zOff, tOff, gOff, lossOff, rows, vocab); targets are int32 at tOff (the
 * caller has checked them against vocab) */
MOELAB_KERNEL napi_value fused_softmax_xent_body(napi_env env, napi_callback_info info) {
  fused_args a;
  const char *nm = "fusedSoftmaxXent";
  if (!fused_parse(env, info, nm, 6, 0, &a)) return NULL;
  const int64_t zo = a.i[0], to = a.i[1], go = a.i[2], lo = a.i[3], rows = a.i[4], vocab = a.i[5];
  if (!in_heap(env, &a, zo, rows * vocab, nm) || !in_heap(env, &a, to, rows, nm) || !in_heap(env, &a, go, rows * vocab, nm) ||
      !in_heap(env, &a, lo, 1, nm) || vocab == 0 || rows == 0)
    return NULL;
  float *h = a.heap;
  const int32_t *t = (const int32_t *)a.heap + to;
  for (int64_t i = 0; i < rows; i++) {
    if (t[i] < 0 || t[i] >= vocab) {
      napi_throw_range_error(env, NULL, "moelab native fusedSoftmaxXent: a target is outside the vocabulary");
      return NULL;
    }
  }
  double total = 0;
  for (int64_t i = 0; i < rows; i++) {
    const float *z = h + zo + i * vocab;
    float *g = h + go + i * vocab;
    float max = z[0];
    for (int64_t j = 1; j < vocab; j++) if (z[j] > max) max = z[j];
    for (int64_t j = 0; j < vocab; j++) g[j] = fast_expf(z[j] - max); /* (z, g: distinct tensors) */
    double sum = 0;
    for (int64_t j = 0; j < vocab; j++) sum += g[j];
    total += log(sum) + max - z[t[i]];
    const double scale = 1.0 / (sum * (double)rows);
    for (int64_t j = 0; j < vocab; j++) g[j] = (float)(g[j] * scale);
    g[t[i]] = (float)(g[t[i]] - 1.0 / (double)rows);
  }
  h[lo] = (float)(total / (double)rows);
  return NULL;
}

/* The AdamW update of n consecutive weights (fusedAdamW, fusedAdamWMulti). (A scale of exactly 1
 * leaves every value unchanged, so clip and decay need no branch.) */
static inline void adamw_span(const float *restrict p, const float *restrict gr, const float *restrict m, const float *restrict v,
                              float *restrict po, float *restrict mo, float *restrict vo, int64_t n, float b1, float b2, float c1,
                              float c2, float clip, float dec, float step, float bc2, float eps) {
  for (int64_t i = 0; i < n; i++) {
    const float g = gr[i] * clip;
    const float mn = m[i] * b1 + g * c1;
    const float vn = v[i] * b2 + (g * g) * c2;
    const float pd = p[i] * dec;
    const float denom = sqrtf(vn) / bc2 + eps;
    mo[i] = mn;
    vo[i] = vn;
    po[i] = pd - (mn / denom) * step;
  }
}

/* fusedAdamW(heap, pOff, gOff, mOff, vOff, pOut, mOut, vOut, n, beta1, beta2, clipScale, decay,
 * stepSize, bc2Sqrt, eps): float32 operations in the order of the stock composition (no FMA
 * contraction: -ffp-contract=off). */
MOELAB_KERNEL napi_value fused_adamw_body(napi_env env, napi_callback_info info) {
  fused_args a;
  const char *nm = "fusedAdamW";
  if (!fused_parse(env, info, nm, 8, 7, &a)) return NULL;
  const int64_t n = a.i[7];
  for (int k = 0; k < 7; k++) {
    if (!in_heap(env, &a, a.i[k], n, nm)) return NULL;
  }
  float *h = a.heap;
  const float *restrict p = h + a.i[0], *restrict gr = h + a.i[1], *restrict m = h + a.i[2], *restrict v = h + a.i[3];
  float *restrict po = h + a.i[4], *restrict mo = h + a.i[5], *restrict vo = h + a.i[6];
  const float b1 = (float)a.d[0], b2 = (float)a.d[1], c1 = (float)(1.0 - a.d[0]), c2 = (float)(1.0 - a.d[1]);
  const float clip = (float)a.d[2], dec = (float)a.d[3], step = (float)a.d[4], bc2 = (float)a.d[5], eps = (float)a.d[6];
  adamw_span(p, gr, m, v, po, mo, vo, n, b1, b2, c1, c2, clip, dec, step, bc2, eps);
  return NULL;
}

/* fusedSoftmaxGrad(heap, pOff, dpOff, dsOff, rows, cols): ds = p ⊙ (dp − Σ_row dp ⊙ p), the
 * softmax backward. */
MOELAB_KERNEL napi_value fused_softmax_grad_body(napi_env env, napi_callback_info info) {
  fused_args a;
  const char *nm = "fusedSoftmaxGrad";
  if (!fused_parse(env, info, nm, 5, 0, &a)) return NULL;
  const int64_t po = a.i[0], dpo = a.i[1], dso = a.i[2], rows = a.i[3], cols = a.i[4];
  if (!in_heap(env, &a, po, rows * cols, nm) || !in_heap(env, &a, dpo, rows * cols, nm) ||
      !in_heap(env, &a, dso, rows * cols, nm))
    return NULL;
  for (int64_t i = 0; i < rows; i++) {
    const float *restrict pr = a.heap + po + i * cols, *restrict dr = a.heap + dpo + i * cols;
    float *restrict out = a.heap + dso + i * cols;
    double dot = 0;
    for (int64_t j = 0; j < cols; j++) dot += (double)dr[j] * pr[j];
    const float d = (float)dot;
    for (int64_t j = 0; j < cols; j++) out[j] = pr[j] * (dr[j] - d);
  }
  return NULL;
}

/* fusedSumSquares(heap, xOff, n, outOff): out = Σ x² over n floats, accumulated in double (a
 * gradient norm's partial sum). */
MOELAB_KERNEL napi_value fused_sum_squares_body(napi_env env, napi_callback_info info) {
  fused_args a;
  const char *nm = "fusedSumSquares";
  if (!fused_parse(env, info, nm, 3, 0, &a)) return NULL;
  const int64_t xo = a.i[0], n = a.i[1], oo = a.i[2];
  if (!in_heap(env, &a, xo, n, nm) || !in_heap(env, &a, oo, 1, nm)) return NULL;
  const float *x = a.heap + xo;
  /* Four float64 partial sums, so the loop is not one long dependency chain. */
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += (double)x[i] * x[i];
    s1 += (double)x[i + 1] * x[i + 1];
    s2 += (double)x[i + 2] * x[i + 2];
    s3 += (double)x[i + 3] * x[i + 3];
  }
  for (; i < n; i++) s0 += (double)x[i] * x[i];
  a.heap[oo] = (float)((s0 + s1) + (s2 + s3));
  return NULL;
}

/* Row gathers and scatter-adds (embedding lookup, MoE dispatch / combine; src/model/kernels.ts).
 * Indices are int32 at iOff (element offset into the same heap) and are checked against the
 * table size before anything is written. */
static int rows_in_range(napi_env env, const int32_t *idx, int64_t count, int64_t limit, const char *nm) {
  for (int64_t r = 0; r < count; r++) {
    if (idx[r] < 0 || idx[r] >= limit) {
      char msg[160];
      snprintf(msg, sizeof msg, "moelab native %s: index %d at position %lld is outside [0, %lld)", nm, idx[r], (long long)r,
               (long long)limit);
      napi_throw_range_error(env, NULL, msg);
      return 0;
    }
  }
  return 1;
}

/* fusedGatherRows(heap, xOff, iOff, outOff, rows, width, count): out[r] = x[index[r]] */
MOELAB_KERNEL napi_value fused_gather_rows_body(napi_env env, napi_callback_info info) {
  fused_args a;
  const char *nm = "fusedGatherRows";
  if (!fused_parse(env, info, nm, 6, 0, &a)) return NULL;
  const int64_t xo = a.i[0], io = a.i[1], oo = a.i[2], rows = a.i[3], w = a.i[4], count = a.i[5];
  if (!in_heap(env, &a, xo, rows * w, nm) || !in_heap(env, &a, io, count, nm) || !in_heap(env, &a, oo, count * w, nm)) return NULL;
  const int32_t *idx = (const int32_t *)a.heap + io;
  if (!rows_in_range(env, idx, count, rows, nm)) return NULL;
  const float *x = a.heap + xo;
  float *out = a.heap + oo;
  for (int64_t r = 0; r < count; r++) memcpy(out + r * w, x + (int64_t)idx[r] * w, (size_t)w * sizeof(float));
  return NULL;
}

/* fusedScatterAddRows(heap, yOff, iOff, outOff, count, width, numOut): out = 0, then
 * out[index[r]] += y[r] for r = 0, 1, … in order (float32 adds: the host loop's sums, bit for bit). */
MOELAB_KERNEL napi_value fused_scatter_add_rows_body(napi_env env, napi_callback_info info) {
  fused_args a;
  const char *nm = "fusedScatterAddRows";
  if (!fused_parse(env, info, nm, 6, 0, &a)) return NULL;
  const int64_t yo = a.i[0], io = a.i[1], oo = a.i[2], count = a.i[3], w = a.i[4], numOut = a.i[5];
  if (!in_heap(env, &a, yo, count * w, nm) || !in_heap(env, &a, io, count, nm) || !in_heap(env, &a, oo, numOut * w, nm)) return NULL;
  const int32_t *idx = (const int32_t *)a.heap + io;
  if (!rows_in_range(env, idx, count, numOut, nm)) return NULL;
  float *out = a.heap + oo;
  memset(out, 0, (size_t)(numOut * w) * sizeof(float));
  for (int64_t r = 0; r < count; r++) {
    const float *restrict y = a.heap + yo + r * w;
    float *restrict o = out + (int64_t)idx[r] * w;
    for (int64_t j = 0; j < w; j++) o[j] += y[j];
  }
  return NULL;
}

/* RoPE on rows [rows, dh] with per-row tables (src/model/attention.ts ropeFast):
 * y = x⊙cos + rot(x)⊙sin, rot(x)[j] = −x[j+h] for j < h, x[j−h] for j ≥ h (h = dh/2: the
 * rotate-half product x·R of src/model/rope.ts rotateHalfMatrix, exactly). Its backward is
 * dx = dy⊙cos + (dy⊙sin)·Rᵀ, (u·Rᵀ)[j] = u[j+h] for j < h, −u[j−h] for j ≥ h. */
/* fusedRope / fusedRopeGrad arguments: four [rows, dh] operands in the heap, then rows, dh. */
static int rope_parse(napi_env env, napi_callback_info info, const char *nm, fused_args *a) {
  if (!fused_parse(env, info, nm, 6, 0, a)) return 0;
  const int64_t n = a->i[4] * a->i[5];
  for (int k = 0; k < 4; k++) {
    if (!in_heap(env, a, a->i[k], n, nm)) return 0;
  }
  return 1;
}

/* fusedRope(heap, xOff, cOff, sOff, yOff, rows, dh) */
MOELAB_KERNEL napi_value fused_rope_body(napi_env env, napi_callback_info info) {
  fused_args a;
  if (!rope_parse(env, info, "fusedRope", &a)) return NULL;
  const int64_t xo = a.i[0], co = a.i[1], so = a.i[2], yo = a.i[3], rows = a.i[4], dh = a.i[5];
  const int64_t h = dh / 2;
  for (int64_t r = 0; r < rows; r++) {
    const float *restrict x = a.heap + xo + r * dh, *restrict c = a.heap + co + r * dh, *restrict sn = a.heap + so + r * dh;
    float *restrict y = a.heap + yo + r * dh;
    for (int64_t j = 0; j < h; j++) y[j] = x[j] * c[j] + (-x[j + h]) * sn[j];
    for (int64_t j = h; j < dh; j++) y[j] = x[j] * c[j] + x[j - h] * sn[j];
  }
  return NULL;
}

/* fusedRopeGrad(heap, dyOff, cOff, sOff, dxOff, rows, dh) */
MOELAB_KERNEL napi_value fused_rope_grad_body(napi_env env, napi_callback_info info) {
  fused_args a;
  if (!rope_parse(env, info, "fusedRopeGrad", &a)) return NULL;
  const int64_t dyo = a.i[0], co = a.i[1], so = a.i[2], dxo = a.i[3], rows = a.i[4], dh = a.i[5];
  const int64_t h = dh / 2;
  for (int64_t r = 0; r < rows; r++) {
    const float *restrict dy = a.heap + dyo + r * dh, *restrict c = a.heap + co + r * dh, *restrict sn = a.heap + so + r * dh;
    float *restrict dx = a.heap + dxo + r * dh;
    for (int64_t j = 0; j < h; j++) dx[j] = dy[j] * c[j] + dy[j + h] * sn[j + h];
    for (int64_t j = h; j < dh; j++) dx[j] = dy[j] * c[j] + (-(dy[j - h] * sn[j - h]));
  }
  return NULL;
}

/* A Float64Array of `per` non-negative integers per entry (the multi-tensor kernels' spec). */
static int parse_spec(napi_env env, napi_value value, size_t per, const double **spec, size_t *entries, const char *nm) {
  napi_typedarray_type type;
  size_t len, byte_offset;
  void *data;
  napi_value buffer;
  char msg[160];
  if (napi_get_typedarray_info(env, value, &type, &len, &data, &buffer, &byte_offset) != napi_ok || type != napi_float64_array ||
      len % per != 0) {
    snprintf(msg, sizeof msg, "moelab native %s: spec must be a Float64Array of %zu numbers per tensor", nm, per);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  const double *d = (const double *)data;
  for (size_t i = 0; i < len; i++) {
    if (!(d[i] >= 0 && d[i] == (double)(int64_t)d[i] && d[i] < 9007199254740992.0)) {
      snprintf(msg, sizeof msg, "moelab native %s: spec entries must be non-negative integers", nm);
      napi_throw_range_error(env, NULL, msg);
      return 0;
    }
  }
  *spec = d;
  *entries = len / per;
  return 1;
}

/* fusedAdamWMulti(heap, spec, mOff, vOff, mOut, vOut, beta1, beta2, clipScale, decay, stepSize,
 * bc2Sqrt, eps): fusedAdamW over a segment whose weights and gradients are separate tensors; spec
 * holds pOff, gOff, pOut, n per tensor, and the flat moments run through them in order. Every
 * weight gets the same float32 operations as fusedAdamW on the concatenation (bit-identical),
 * without the concatenations and the split. */
MOELAB_KERNEL napi_value fused_adamw_multi_body(napi_env env, napi_callback_info info) {
  const char *nm = "fusedAdamWMulti";
  napi_value argv[13];
  size_t argc = 13;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 13) {
    napi_throw_type_error(env, NULL, "moelab native fusedAdamWMulti: expected 13 arguments");
    return NULL;
  }
  fused_args a;
  if (!heap_view(env, argv[0], nm, &a)) return NULL;
  const double *spec;
  size_t tensors;
  if (!parse_spec(env, argv[1], 4, &spec, &tensors, nm)) return NULL;
  int64_t mv[4];
  for (int k = 0; k < 4; k++) {
    if (!get_i64(env, argv[2 + k], &mv[k], "moment offset")) return NULL;
  }
  double d[7];
  for (int k = 0; k < 7; k++) {
    if (napi_get_value_double(env, argv[6 + k], &d[k]) != napi_ok) {
      napi_throw_type_error(env, NULL, "moelab native fusedAdamWMulti: hyperparameters must be numbers");
      return NULL;
    }
  }
  int64_t total = 0;
  for (size_t t = 0; t < tensors; t++) {
    const int64_t n = (int64_t)spec[4 * t + 3];
    for (int j = 0; j < 3; j++) {
      if (!in_heap(env, &a, (int64_t)spec[4 * t + j], n, nm)) return NULL;
    }
    total += n;
  }
  for (int k = 0; k < 4; k++) {
    if (!in_heap(env, &a, mv[k], total, nm)) return NULL;
  }
  const float b1 = (float)d[0], b2 = (float)d[1], c1 = (float)(1.0 - d[0]), c2 = (float)(1.0 - d[1]);
  int64_t at = 0;
  for (size_t t = 0; t < tensors; t++) {
    const int64_t n = (int64_t)spec[4 * t + 3];
    adamw_span(a.heap + (int64_t)spec[4 * t], a.heap + (int64_t)spec[4 * t + 1], a.heap + mv[0] + at, a.heap + mv[1] + at,
               a.heap + (int64_t)spec[4 * t + 2], a.heap + mv[2] + at, a.heap + mv[3] + at, n, b1, b2, c1, c2, (float)d[2],
               (float)d[3], (float)d[4], (float)d[5], (float)d[6]);
    at += n;
  }
  return NULL;
}

/* fusedSumSquaresMulti(heap, spec, outOff): fusedSumSquares of the concatenation of the tensors
 * (spec: xOff, n per tensor), the same four partial sums over the same positions, bit for bit. */
MOELAB_KERNEL napi_value fused_sum_squares_multi_body(napi_env env, napi_callback_info info) {
  const char *nm = "fusedSumSquaresMulti";
  napi_value argv[3];
  size_t argc = 3;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) {
    napi_throw_type_error(env, NULL, "moelab native fusedSumSquaresMulti: expected 3 arguments");
    return NULL;
  }
  fused_args a;
  if (!heap_view(env, argv[0], nm, &a)) return NULL;
  const double *spec;
  size_t tensors;
  if (!parse_spec(env, argv[1], 2, &spec, &tensors, nm)) return NULL;
  int64_t oo;
  if (!get_i64(env, argv[2], &oo, "outOff")) return NULL;
  int64_t total = 0;
  for (size_t t = 0; t < tensors; t++) {
    if (!in_heap(env, &a, (int64_t)spec[2 * t], (int64_t)spec[2 * t + 1], nm)) return NULL;
    total += (int64_t)spec[2 * t + 1];
  }
  if (!in_heap(env, &a, oo, 1, nm)) return NULL;
  /* fusedSumSquares: element i of the whole goes to partial sum i mod 4, except the last
   * total mod 4, which go to the first. */
  const int64_t body = total - total % 4;
  double s[4] = {0, 0, 0, 0};
  int64_t gi = 0;
  for (size_t t = 0; t < tensors; t++) {
    const float *x = a.heap + (int64_t)spec[2 * t];
    const int64_t n = (int64_t)spec[2 * t + 1];
    int64_t i = 0;
    for (; i < n && (gi & 3) != 0 && gi < body; i++, gi++) s[gi & 3] += (double)x[i] * x[i];
    /* Whole groups of four, lane j = position mod 4, in registers as in fusedSumSquares. */
    double s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
    for (; i + 4 <= n && gi + 4 <= body; i += 4, gi += 4) {
      s0 += (double)x[i] * x[i];
      s1 += (double)x[i + 1] * x[i + 1];
      s2 += (double)x[i + 2] * x[i + 2];
      s3 += (double)x[i + 3] * x[i + 3];
    }
    s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3;
    for (; i < n; i++, gi++) s[gi < body ? (gi & 3) : 0] += (double)x[i] * x[i];
  }
  a.heap[oo] = (float)((s[0] + s[1]) + (s[2] + s[3]));
  return NULL;
}

/* fusedAdd(heap, aOff, bOff, outOff, n): out = a + b over n float32 elements, the same-shape Add
 * (src/engine/heap-kernels.ts; broadcasting adds stay stock). IEEE float32 adds: the stock
 * kernel's results, bit for bit. Operands may alias (x + x). */
MOELAB_KERNEL napi_value fused_add_body(napi_env env, napi_callback_info info) {
  fused_args a;
  const char *nm = "fusedAdd";
  if (!fused_parse(env, info, nm, 4, 0, &a)) return NULL;
  const int64_t ao = a.i[0], bo = a.i[1], oo = a.i[2], n = a.i[3];
  if (!in_heap(env, &a, ao, n, nm) || !in_heap(env, &a, bo, n, nm) || !in_heap(env, &a, oo, n, nm)) return NULL;
  const float *x = a.heap + ao, *y = a.heap + bo;
  float *out = a.heap + oo;
  for (int64_t i = 0; i < n; i++) out[i] = x[i] + y[i];
  return NULL;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK_NAPI(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t n;
  if (argc != 1 || !get_i64(env, argv[0], &n, "threads")) return NULL;
  if (n < 1 || n > 256) {
    napi_throw_range_error(env, NULL, "moelab native setThreads: threads must be in [1, 256]");
    return NULL;
  }
  openblas_set_num_threads((int)n);
  return NULL;
}

static napi_value get_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK_NAPI(env, napi_create_int32(env, openblas_get_num_threads(), &out));
  return out;
}

static napi_value config(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK_NAPI(env, napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &out));
  return out;
}

/* The entry points Node calls: each calls its multiversioned body directly (a body's address
 * taken in the constant property table below would bind the baseline clone, GCC 12). */
static napi_value transpose(napi_env env, napi_callback_info info) { return transpose_body(env, info); }
static napi_value unary(napi_env env, napi_callback_info info) { return unary_body(env, info); }
static napi_value fused_rmsnorm(napi_env env, napi_callback_info info) { return fused_rmsnorm_body(env, info); }
static napi_value fused_rmsnorm_grad(napi_env env, napi_callback_info info) { return fused_rmsnorm_grad_body(env, info); }
static napi_value fused_swiglu(napi_env env, napi_callback_info info) { return fused_swiglu_body(env, info); }
static napi_value fused_swiglu_grad(napi_env env, napi_callback_info info) { return fused_swiglu_grad_body(env, info); }
static napi_value fused_softmax_xent(napi_env env, napi_callback_info info) { return fused_softmax_xent_body(env, info); }
static napi_value fused_adamw(napi_env env, napi_callback_info info) { return fused_adamw_body(env, info); }
static napi_value fused_softmax_grad(napi_env env, napi_callback_info info) { return fused_softmax_grad_body(env, info); }
static napi_value fused_sum_squares(napi_env env, napi_callback_info info) { return fused_sum_squares_body(env, info); }
static napi_value fused_gather_rows(napi_env env, napi_callback_info info) { return fused_gather_rows_body(env, info); }
static napi_value fused_scatter_add_rows(napi_env env, napi_callback_info info) { return fused_scatter_add_rows_body(env, info); }
static napi_value fused_rope(napi_env env, napi_callback_info info) { return fused_rope_body(env, info); }
static napi_value fused_rope_grad(napi_env env, napi_callback_info info) { return fused_rope_grad_body(env, info); }
static napi_value fused_adamw_multi(napi_env env, napi_callback_info info) { return fused_adamw_multi_body(env, info); }
static napi_value fused_sum_squares_multi(napi_env env, napi_callback_info info) { return fused_sum_squares_multi_body(env, info); }
static napi_value fused_add(napi_env env, napi_callback_info info) { return fused_add_body(env, info); }

static napi_value init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sgemmGrouped", NULL, sgemm_grouped, NULL, NULL, NULL, napi_enumerable, NULL},
      {"transpose", NULL, transpose, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unary", NULL, unary, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fusedRmsNorm", NULL, fused_rmsnorm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fusedRmsNormGrad", NULL, fused_rmsnorm_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fusedSwiglu", NULL, fused_swiglu, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fusedSwigluGrad", NULL, fused_swiglu_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fusedSoftmaxXent", NULL, fused_softmax_xent, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fusedAdamW", NULL, fused_adamw, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fusedSumSquares", NULL, fused_sum_squares, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fusedSoftmaxGrad", NULL, fused_softmax_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fusedGatherRows", NULL, fused_gather_rows, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fusedScatterAddRows", NULL, fused_scatter_add_rows, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fusedRope", NULL, fused_rope, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fusedRopeGrad", NULL, fused_rope_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fusedAdamWMulti", NULL, fused_adamw_multi, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fusedSumSquaresMulti", NULL, fused_sum_squares_multi, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fusedAdd", NULL, fused_add, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getThreads", NULL, get_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"config", NULL, config, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK_NAPI(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
