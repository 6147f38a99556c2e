#include "CKernels.h"

// Each element's sum is a multiply followed by an add, in the order p = 0, 1, …, k − 1,
// as the sequential sum is written: no fused multiply-add, whatever the target's default.
#pragma clang fp contract(off)

// Blocks of 4 rows × 4 columns of C, summed in registers: one vector per column, its lanes
// the block's 4 rows. At each p the block's 4 elements of op(A)'s column p are loaded as
// one vector (gathered from A once per block into a packed copy when they are not
// contiguous) and each of the 4 elements of op(B)'s row p is broadcast against it. Rows
// past m are zero in the packed copy and are not stored; columns past n repeat the last
// column and are not stored.
#define DEFINE_SMALL_PRODUCT(T, V, NAME)                                                     \
  typedef T V __attribute__((ext_vector_type(4)));                                          \
  void NAME(int trans_a, int trans_b, long m, long n, long k, const T *a, long lda,         \
            const T *b, long ldb, T *c, long ldc, int accumulate) {                         \
    const long ai = trans_a ? 1 : lda, ap = trans_a ? lda : 1;                              \
    const long bp = trans_b ? 1 : ldb, bj = trans_b ? ldb : 1;                              \
    if (k == 0) { /* an empty sum: C stays, or becomes 0 */                                 \
      if (!accumulate)                                                                      \
        for (long i = 0; i < m; i++)                                                        \
          for (long j = 0; j < n; j++) c[i * ldc + j] = 0;                                  \
      return;                                                                               \
    }                                                                                       \
    V packed[256];                                                                          \
    for (long i0 = 0; i0 < m; i0 += 4) {                                                    \
      const long rows = m - i0 < 4 ? m - i0 : 4;                                            \
      for (long p0 = 0; p0 < k; p0 += 256) {                                                \
        const long kc = k - p0 < 256 ? k - p0 : 256;                                        \
        for (long p = 0; p < kc; p++) {                                                     \
          V column = 0;                                                                     \
          for (long r = 0; r < rows; r++) column[r] = a[(i0 + r) * ai + (p0 + p) * ap];     \
          packed[p] = column;                                                               \
        }                                                                                   \
        for (long j0 = 0; j0 < n; j0 += 4) {                                                \
          const long w = n - j0 < 4 ? n - j0 : 4;                                           \
          const long o1 = (w > 1 ? 1 : w - 1) * bj, o2 = (w > 2 ? 2 : w - 1) * bj,          \
                     o3 = (w - 1) * bj;                                                     \
          V s0 = 0, s1 = 0, s2 = 0, s3 = 0;                                                 \
          if (accumulate || p0 > 0) {                                                       \
            for (long r = 0; r < rows; r++) {                                               \
              const T *cr = c + (i0 + r) * ldc + j0;                                        \
              s0[r] = cr[0];                                                                \
              if (w > 1) s1[r] = cr[1];                                                     \
              if (w > 2) s2[r] = cr[2];                                                     \
              if (w > 3) s3[r] = cr[3];                                                     \
            }                                                                               \
          }                                                                                 \
          const T *y = b + p0 * bp + j0 * bj;                                               \
          for (long p = 0; p < kc; p++, y += bp) {                                          \
            const V x = packed[p];                                                          \
            s0 += x * y[0];                                                                 \
            s1 += x * y[o1];                                                                \
            s2 += x * y[o2];                                                                \
            s3 += x * y[o3];                                                                \
          }                                                                                 \
          for (long r = 0; r < rows; r++) {                                                 \
            T *cr = c + (i0 + r) * ldc + j0;                                                \
            cr[0] = s0[r];                                                                  \
            if (w > 1) cr[1] = s1[r];                                                       \
            if (w > 2) cr[2] = s2[r];                                                       \
            if (w > 3) cr[3] = s3[r];                                                       \
          }                                                                                 \
        }                                                                                   \
      }                                                                                     \
    }                                                                                       \
  }

DEFINE_SMALL_PRODUCT(float, ad_small_f32x4, ad_small_gemm_f32)
DEFINE_SMALL_PRODUCT(double, ad_small_f64x4, ad_small_gemm_f64)
