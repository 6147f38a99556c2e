#include "CKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define AD_X86 1
#endif

// MARK: - Portable kernels (any CPU): 4 × 8 register blocks in plain C.

#define PORTABLE_MR 4
#define PORTABLE_NR 8

#define DEFINE_PORTABLE(T, NAME)                                                       \
  static void NAME(long kc, const T *a, const T *b, long ldb, T *c, long ldc, int accumulate) { \
    T acc[PORTABLE_MR][PORTABLE_NR] = {{0}};                                            \
    for (long p = 0; p < kc; p++) {                                                     \
      for (int i = 0; i < PORTABLE_MR; i++) {                                           \
        T ai = a[p * PORTABLE_MR + i];                                                  \
        for (int j = 0; j < PORTABLE_NR; j++) acc[i][j] += ai * b[p * ldb + j];         \
      }                                                                                 \
    }                                                                                   \
    for (int i = 0; i < PORTABLE_MR; i++)                                               \
      for (int j = 0; j < PORTABLE_NR; j++)                                             \
        c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0) + acc[i][j];                 \
  }

DEFINE_PORTABLE(float, kernel_f32_portable)
DEFINE_PORTABLE(double, kernel_f64_portable)

#ifdef AD_X86

// MARK: - AVX2 + FMA: 6 rows × 2 vectors (16 floats or 8 doubles).

__attribute__((target("avx2,fma"))) static void kernel_f32_avx2(long kc, const float *a,
                                                                 const float *b, long ldb, float *c,
                                                                 long ldc, int accumulate) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (long p = 0; p < kc; p++) {
    __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 x;
    x = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01);
    x = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11);
    x = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21);
    x = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31);
    x = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(x, b0, c40); c41 = _mm256_fmadd_ps(x, b1, c41);
    x = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(x, b0, c50); c51 = _mm256_fmadd_ps(x, b1, c51);
    a += 6;
    b += ldb;
  }
  __m256 rows[6][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  for (int i = 0; i < 6; i++) {
    float *ci = c + i * ldc;
    if (accumulate) {
      rows[i][0] = _mm256_add_ps(rows[i][0], _mm256_loadu_ps(ci));
      rows[i][1] = _mm256_add_ps(rows[i][1], _mm256_loadu_ps(ci + 8));
    }
    _mm256_storeu_ps(ci, rows[i][0]);
    _mm256_storeu_ps(ci + 8, rows[i][1]);
  }
}

__attribute__((target("avx2,fma"))) static void kernel_f64_avx2(long kc, const double *a,
                                                                 const double *b, long ldb, double *c,
                                                                 long ldc, int accumulate) {
  __m256d acc[6][2];
  for (int i = 0; i < 6; i++) acc[i][0] = acc[i][1] = _mm256_setzero_pd();
  for (long p = 0; p < kc; p++) {
    __m256d b0 = _mm256_loadu_pd(b), b1 = _mm256_loadu_pd(b + 4);
    for (int i = 0; i < 6; i++) {
      __m256d x = _mm256_broadcast_sd(a + i);
      acc[i][0] = _mm256_fmadd_pd(x, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_pd(x, b1, acc[i][1]);
    }
    a += 6;
    b += ldb;
  }
  for (int i = 0; i < 6; i++) {
    double *ci = c + i * ldc;
    if (accumulate) {
      acc[i][0] = _mm256_add_pd(acc[i][0], _mm256_loadu_pd(ci));
      acc[i][1] = _mm256_add_pd(acc[i][1], _mm256_loadu_pd(ci + 4));
    }
    _mm256_storeu_pd(ci, acc[i][0]);
    _mm256_storeu_pd(ci + 4, acc[i][1]);
  }
}

// MARK: - AVX2 edge tiles: only the m rows that exist, masked loads and stores of C where
// the tile has fewer columns than the panel.

// One kernel per row count, so that the accumulators stay in registers; the packed panels
// are zero-padded, so the columns past n only need masking when C is read and written.
#define DEFINE_AVX2_EDGE(T, V, WIDTH, ROWS, NAME, SET1, LOAD, STORE, FMA, ADD, MASKLOAD,      \
                         MASKSTORE, MASK)                                                    \
  __attribute__((target("avx2,fma"))) static void NAME(long kc, const T *a, const T *b,      \
                                                       long ldb, T *c, long ldc,              \
                                                       int accumulate, long n) {              \
    V acc[ROWS][2];                                                                          \
    for (int i = 0; i < ROWS; i++) acc[i][0] = acc[i][1] = SET1(0);                          \
    for (long p = 0; p < kc; p++) {                                                          \
      V b0 = LOAD(b), b1 = LOAD(b + WIDTH);                                                  \
      for (int i = 0; i < ROWS; i++) {                                                       \
        V x = SET1(a[i]);                                                                    \
        acc[i][0] = FMA(x, b0, acc[i][0]);                                                   \
        acc[i][1] = FMA(x, b1, acc[i][1]);                                                   \
      }                                                                                      \
      a += 6;                                                                                \
      b += ldb;                                                                              \
    }                                                                                        \
    if (n >= 2 * WIDTH) {                                                                    \
      /* All columns: plain loads and stores (masked stores are slow on some CPUs). */       \
      for (int i = 0; i < ROWS; i++) {                                                       \
        T *ci = c + i * ldc;                                                                 \
        if (accumulate) {                                                                    \
          acc[i][0] = ADD(acc[i][0], LOAD(ci));                                              \
          acc[i][1] = ADD(acc[i][1], LOAD(ci + WIDTH));                                      \
        }                                                                                    \
        STORE(ci, acc[i][0]);                                                                \
        STORE(ci + WIDTH, acc[i][1]);                                                        \
      }                                                                                      \
      return;                                                                                \
    }                                                                                        \
    __m256i m0 = MASK(n), m1 = MASK(n - WIDTH);                                              \
    for (int i = 0; i < ROWS; i++) {                                                         \
      T *ci = c + i * ldc;                                                                   \
      if (accumulate) {                                                                      \
        acc[i][0] = ADD(acc[i][0], MASKLOAD(ci, m0));                                        \
        acc[i][1] = ADD(acc[i][1], MASKLOAD(ci + WIDTH, m1));                                \
      }                                                                                      \
      MASKSTORE(ci, m0, acc[i][0]);                                                          \
      MASKSTORE(ci + WIDTH, m1, acc[i][1]);                                                  \
    }                                                                                        \
  }

/// All lanes j (of 8 ints) with j < n set.
__attribute__((target("avx2"))) static inline __m256i lanes_f32(long n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 0 ? 0 : n > 8 ? 8 : n)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
/// All lanes j (of 4 longs) with j < n set.
__attribute__((target("avx2"))) static inline __m256i lanes_f64(long n) {
  return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n < 0 ? 0 : n > 4 ? 4 : n),
                            _mm256_setr_epi64x(0, 1, 2, 3));
}

#define DEFINE_AVX2_EDGE_F32(ROWS)                                                          \
  DEFINE_AVX2_EDGE(float, __m256, 8, ROWS, edge_f32_avx2_##ROWS, _mm256_set1_ps,            \
                   _mm256_loadu_ps, _mm256_storeu_ps, _mm256_fmadd_ps, _mm256_add_ps,       \
                   _mm256_maskload_ps, _mm256_maskstore_ps, lanes_f32)
#define DEFINE_AVX2_EDGE_F64(ROWS)                                                          \
  DEFINE_AVX2_EDGE(double, __m256d, 4, ROWS, edge_f64_avx2_##ROWS, _mm256_set1_pd,          \
                   _mm256_loadu_pd, _mm256_storeu_pd, _mm256_fmadd_pd, _mm256_add_pd,       \
                   _mm256_maskload_pd, _mm256_maskstore_pd, lanes_f64)

DEFINE_AVX2_EDGE_F32(1)
DEFINE_AVX2_EDGE_F32(2)
DEFINE_AVX2_EDGE_F32(3)
DEFINE_AVX2_EDGE_F32(4)
DEFINE_AVX2_EDGE_F32(5)
DEFINE_AVX2_EDGE_F32(6)
DEFINE_AVX2_EDGE_F64(1)
DEFINE_AVX2_EDGE_F64(2)
DEFINE_AVX2_EDGE_F64(3)
DEFINE_AVX2_EDGE_F64(4)
DEFINE_AVX2_EDGE_F64(5)
DEFINE_AVX2_EDGE_F64(6)

static void edge_f32_avx2(long kc, const float *a, const float *b, long ldb, float *c, long ldc,
                          int accumulate, long m, long n) {
  switch (m) {
  case 1: edge_f32_avx2_1(kc, a, b, ldb, c, ldc, accumulate, n); break;
  case 2: edge_f32_avx2_2(kc, a, b, ldb, c, ldc, accumulate, n); break;
  case 3: edge_f32_avx2_3(kc, a, b, ldb, c, ldc, accumulate, n); break;
  case 4: edge_f32_avx2_4(kc, a, b, ldb, c, ldc, accumulate, n); break;
  case 5: edge_f32_avx2_5(kc, a, b, ldb, c, ldc, accumulate, n); break;
  default: edge_f32_avx2_6(kc, a, b, ldb, c, ldc, accumulate, n); break;
  }
}

static void edge_f64_avx2(long kc, const double *a, const double *b, long ldb, double *c,
                          long ldc, int accumulate, long m, long n) {
  switch (m) {
  case 1: edge_f64_avx2_1(kc, a, b, ldb, c, ldc, accumulate, n); break;
  case 2: edge_f64_avx2_2(kc, a, b, ldb, c, ldc, accumulate, n); break;
  case 3: edge_f64_avx2_3(kc, a, b, ldb, c, ldc, accumulate, n); break;
  case 4: edge_f64_avx2_4(kc, a, b, ldb, c, ldc, accumulate, n); break;
  case 5: edge_f64_avx2_5(kc, a, b, ldb, c, ldc, accumulate, n); break;
  default: edge_f64_avx2_6(kc, a, b, ldb, c, ldc, accumulate, n); break;
  }
}

// MARK: - AVX2 thin tiles: 1 row × 4 panels or 2 rows × 2 panels, 8 accumulators.

#define DEFINE_AVX2_THIN(T, V, WIDTH, ROWS, PANELS, NAME, SET1, LOAD, FMA, ADD, STORE)        \
  __attribute__((target("avx2,fma"))) static void NAME(long kc, const T *a, const T *b,       \
                                                       long ldb, long ps, T *c, long ldc,      \
                                                       int accumulate) {                      \
    V acc[ROWS][2 * PANELS];                                                                  \
    for (int i = 0; i < ROWS; i++)                                                            \
      for (int v = 0; v < 2 * PANELS; v++) acc[i][v] = SET1(0);                               \
    for (long p = 0; p < kc; p++) {                                                           \
      for (int q = 0; q < PANELS; q++) {                                                      \
        V b0 = LOAD(b + q * ps), b1 = LOAD(b + q * ps + WIDTH);                               \
        for (int i = 0; i < ROWS; i++) {                                                      \
          V x = SET1(a[i]);                                                                   \
          acc[i][2 * q] = FMA(x, b0, acc[i][2 * q]);                                          \
          acc[i][2 * q + 1] = FMA(x, b1, acc[i][2 * q + 1]);                                  \
        }                                                                                     \
      }                                                                                       \
      a += 6;                                                                                 \
      b += ldb;                                                                               \
    }                                                                                         \
    for (int i = 0; i < ROWS; i++) {                                                          \
      for (int v = 0; v < 2 * PANELS; v++) {                                                  \
        T *cv = c + i * ldc + v * WIDTH;                                                      \
        STORE(cv, accumulate ? ADD(acc[i][v], LOAD(cv)) : acc[i][v]);                         \
      }                                                                                       \
    }                                                                                         \
  }

DEFINE_AVX2_THIN(float, __m256, 8, 1, 4, thin_f32_avx2_1, _mm256_set1_ps, _mm256_loadu_ps,
                 _mm256_fmadd_ps, _mm256_add_ps, _mm256_storeu_ps)
DEFINE_AVX2_THIN(float, __m256, 8, 2, 2, thin_f32_avx2_2, _mm256_set1_ps, _mm256_loadu_ps,
                 _mm256_fmadd_ps, _mm256_add_ps, _mm256_storeu_ps)
DEFINE_AVX2_THIN(double, __m256d, 4, 1, 4, thin_f64_avx2_1, _mm256_set1_pd, _mm256_loadu_pd,
                 _mm256_fmadd_pd, _mm256_add_pd, _mm256_storeu_pd)
DEFINE_AVX2_THIN(double, __m256d, 4, 2, 2, thin_f64_avx2_2, _mm256_set1_pd, _mm256_loadu_pd,
                 _mm256_fmadd_pd, _mm256_add_pd, _mm256_storeu_pd)

static void thin_f32_avx2(long kc, const float *a, const float *b, long ldb, long ps, float *c,
                          long ldc, int accumulate, long m) {
  if (m == 1) thin_f32_avx2_1(kc, a, b, ldb, ps, c, ldc, accumulate);
  else thin_f32_avx2_2(kc, a, b, ldb, ps, c, ldc, accumulate);
}

static void thin_f64_avx2(long kc, const double *a, const double *b, long ldb, long ps, double *c,
                          long ldc, int accumulate, long m) {
  if (m == 1) thin_f64_avx2_1(kc, a, b, ldb, ps, c, ldc, accumulate);
  else thin_f64_avx2_2(kc, a, b, ldb, ps, c, ldc, accumulate);
}

// MARK: - AVX-512: 6 rows × 2 vectors (32 floats or 16 doubles), 12 accumulators.

__attribute__((target("avx512f,fma"))) static void kernel_f32_avx512(long kc, const float *a,
                                                                      const float *b, long ldb, float *c,
                                                                      long ldc, int accumulate) {
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps();
  __m512 c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps();
  __m512 c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
  __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps();
  __m512 c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
  for (long p = 0; p < kc; p++) {
    __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
    __m512 x;
    x = _mm512_set1_ps(a[0]); c00 = _mm512_fmadd_ps(x, b0, c00); c01 = _mm512_fmadd_ps(x, b1, c01);
    x = _mm512_set1_ps(a[1]); c10 = _mm512_fmadd_ps(x, b0, c10); c11 = _mm512_fmadd_ps(x, b1, c11);
    x = _mm512_set1_ps(a[2]); c20 = _mm512_fmadd_ps(x, b0, c20); c21 = _mm512_fmadd_ps(x, b1, c21);
    x = _mm512_set1_ps(a[3]); c30 = _mm512_fmadd_ps(x, b0, c30); c31 = _mm512_fmadd_ps(x, b1, c31);
    x = _mm512_set1_ps(a[4]); c40 = _mm512_fmadd_ps(x, b0, c40); c41 = _mm512_fmadd_ps(x, b1, c41);
    x = _mm512_set1_ps(a[5]); c50 = _mm512_fmadd_ps(x, b0, c50); c51 = _mm512_fmadd_ps(x, b1, c51);
    a += 6;
    b += ldb;
  }
  __m512 rows[6][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  for (int i = 0; i < 6; i++) {
    float *ci = c + i * ldc;
    if (accumulate) {
      rows[i][0] = _mm512_add_ps(rows[i][0], _mm512_loadu_ps(ci));
      rows[i][1] = _mm512_add_ps(rows[i][1], _mm512_loadu_ps(ci + 16));
    }
    _mm512_storeu_ps(ci, rows[i][0]);
    _mm512_storeu_ps(ci + 16, rows[i][1]);
  }
}

__attribute__((target("avx512f,fma"))) static void kernel_f64_avx512(long kc, const double *a,
                                                                      const double *b, long ldb, double *c,
                                                                      long ldc, int accumulate) {
  __m512d acc[6][2];
  for (int i = 0; i < 6; i++) acc[i][0] = acc[i][1] = _mm512_setzero_pd();
  for (long p = 0; p < kc; p++) {
    __m512d b0 = _mm512_loadu_pd(b), b1 = _mm512_loadu_pd(b + 8);
    for (int i = 0; i < 6; i++) {
      __m512d x = _mm512_set1_pd(a[i]);
      acc[i][0] = _mm512_fmadd_pd(x, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_pd(x, b1, acc[i][1]);
    }
    a += 6;
    b += ldb;
  }
  for (int i = 0; i < 6; i++) {
    double *ci = c + i * ldc;
    if (accumulate) {
      acc[i][0] = _mm512_add_pd(acc[i][0], _mm512_loadu_pd(ci));
      acc[i][1] = _mm512_add_pd(acc[i][1], _mm512_loadu_pd(ci + 8));
    }
    _mm512_storeu_pd(ci, acc[i][0]);
    _mm512_storeu_pd(ci + 8, acc[i][1]);
  }
}

// MARK: - AVX-512 edge tiles: full arithmetic, masked loads and stores of C.

__attribute__((target("avx512f,fma"))) static void edge_f32_avx512(long kc, const float *a,
                                                                    const float *b, long ldb,
                                                                    float *c, long ldc,
                                                                    int accumulate, long m,
                                                                    long n) {
  __m512 acc[6][2];
  for (int i = 0; i < 6; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (long p = 0; p < kc; p++) {
    __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
    for (int i = 0; i < 6; i++) {
      __m512 x = _mm512_set1_ps(a[i]);
      acc[i][0] = _mm512_fmadd_ps(x, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(x, b1, acc[i][1]);
    }
    a += 6;
    b += ldb;
  }
  __mmask16 m0 = n >= 16 ? 0xFFFF : (__mmask16)((1u << n) - 1);
  __mmask16 m1 = n <= 16 ? 0 : n >= 32 ? 0xFFFF : (__mmask16)((1u << (n - 16)) - 1);
  for (long i = 0; i < m; i++) {
    float *ci = c + i * ldc;
    if (accumulate) {
      acc[i][0] = _mm512_add_ps(acc[i][0], _mm512_maskz_loadu_ps(m0, ci));
      acc[i][1] = _mm512_add_ps(acc[i][1], _mm512_maskz_loadu_ps(m1, ci + 16));
    }
    _mm512_mask_storeu_ps(ci, m0, acc[i][0]);
    _mm512_mask_storeu_ps(ci + 16, m1, acc[i][1]);
  }
}

__attribute__((target("avx512f,fma"))) static void edge_f64_avx512(long kc, const double *a,
                                                                    const double *b, long ldb,
                                                                    double *c, long ldc,
                                                                    int accumulate, long m,
                                                                    long n) {
  __m512d acc[6][2];
  for (int i = 0; i < 6; i++) acc[i][0] = acc[i][1] = _mm512_setzero_pd();
  for (long p = 0; p < kc; p++) {
    __m512d b0 = _mm512_loadu_pd(b), b1 = _mm512_loadu_pd(b + 8);
    for (int i = 0; i < 6; i++) {
      __m512d x = _mm512_set1_pd(a[i]);
      acc[i][0] = _mm512_fmadd_pd(x, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_pd(x, b1, acc[i][1]);
    }
    a += 6;
    b += ldb;
  }
  __mmask8 m0 = n >= 8 ? 0xFF : (__mmask8)((1u << n) - 1);
  __mmask8 m1 = n <= 8 ? 0 : n >= 16 ? 0xFF : (__mmask8)((1u << (n - 8)) - 1);
  for (long i = 0; i < m; i++) {
    double *ci = c + i * ldc;
    if (accumulate) {
      acc[i][0] = _mm512_add_pd(acc[i][0], _mm512_maskz_loadu_pd(m0, ci));
      acc[i][1] = _mm512_add_pd(acc[i][1], _mm512_maskz_loadu_pd(m1, ci + 8));
    }
    _mm512_mask_storeu_pd(ci, m0, acc[i][0]);
    _mm512_mask_storeu_pd(ci + 8, m1, acc[i][1]);
  }
}

#endif

// MARK: - Selection

// The AVX2 packing of Float panels (GemmPacking.c), for both x86 levels.
void ad_pack_a6_f32_avx2(int trans, const float *a, long lda, long mc, long kc, float *out);
void ad_pack_b_f32_avx2(int trans, const float *b, long ldb, long kc, long nc, long nr,
                        float *out);

int ad_cpu_level(void) {
#ifdef AD_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) return AD_ISA_AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return AD_ISA_AVX2;
#endif
  return AD_ISA_PORTABLE;
}

ad_gemm_config ad_gemm_select(int max_level) {
  int level = ad_cpu_level();
  if (level > max_level) level = max_level;
  ad_gemm_config config = {kernel_f32_portable, PORTABLE_MR, PORTABLE_NR,
                           kernel_f64_portable, PORTABLE_MR, PORTABLE_NR, "portable", NULL, NULL,
                           NULL, NULL, NULL, NULL};
#ifdef AD_X86
  if (level == AD_ISA_AVX512) {
    config = (ad_gemm_config){kernel_f32_avx512, 6, 32, kernel_f64_avx512, 6, 16, "avx512",
                              edge_f32_avx512, edge_f64_avx512, ad_pack_a6_f32_avx2,
                              ad_pack_b_f32_avx2, NULL, NULL};
  } else if (level == AD_ISA_AVX2) {
    config = (ad_gemm_config){kernel_f32_avx2, 6, 16, kernel_f64_avx2, 6, 8, "avx2",
                              edge_f32_avx2, edge_f64_avx2, ad_pack_a6_f32_avx2,
                              ad_pack_b_f32_avx2, thin_f32_avx2, thin_f64_avx2};
  }
#endif
  return config;
}
