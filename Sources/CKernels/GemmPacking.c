#include "CKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define AD_X86 1
#endif

// Packing of Float operands for the micro-kernels whose A panels are 6 rows tall (the AVX2
// and AVX-512 kernels), selected through ad_gemm_config: the same layout as the Swift
// packing in MatrixProductKernel.swift, with the gathers done as 8 × 8 transposes in
// registers instead of one scalar load and store per element. A product of the
// transformer's shapes (n or k = 128) packs one element per 128 multiply-adds, and the
// scalar packing cost about a third of the arithmetic.

#ifdef AD_X86

/// Transposes the 8 × 8 block r[0..<8] in place: afterwards r[q][i] is the old r[i][q].
__attribute__((target("avx2"))) static inline void transpose8(__m256 r[8]) {
  __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

/// Stores the first 6 floats of v at dst (a 4-wide and a 2-wide store: nothing past dst[5]).
__attribute__((target("avx2"))) static inline void store6(float *dst, __m256 v) {
  _mm_storeu_ps(dst, _mm256_castps256_ps128(v));
  _mm_storel_pi((__m64 *)(dst + 4), _mm256_extractf128_ps(v, 1));
}

/// Rows of B the packing of B reads together before moving to the next ones.
#define ROW_GROUP 8

__attribute__((target("avx2"))) void ad_pack_a6_f32_avx2(int trans, const float *a, long lda,
                                                              long mc, long kc, float *out) {
  for (long i0 = 0; i0 < mc; i0 += 6, out += kc * 6) {
    long rows = mc - i0 < 6 ? mc - i0 : 6;
    if (rows < 6 && trans) {
      for (long p = 0; p < kc; p++) {
        for (long i = 0; i < 6; i++)
          out[p * 6 + i] = i < rows ? (trans ? a[p * lda + i0 + i] : a[(i0 + i) * lda + p]) : 0;
      }
    } else if (trans) {
      // op(A) row i is column i of A: each p copies 6 adjacent floats.
      const float *src = a + i0;
      for (long p = 0; p < kc; p++, src += lda) {
        __m128 lo = _mm_loadu_ps(src);
        __m128 hi = _mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)(src + 4));
        _mm_storeu_ps(out + p * 6, lo);
        _mm_storel_pi((__m64 *)(out + p * 6 + 4), hi);
      }
    } else {
      // The rows read side by side (zeros past the last one), 8 columns at a time,
      // transposed in registers.
      const float *src = a + i0 * lda;
      long p = 0;
      for (; p + 8 <= kc; p += 8) {
        __m256 r[8];
        for (int i = 0; i < 8; i++)
          r[i] = i < rows ? _mm256_loadu_ps(src + i * lda + p) : _mm256_setzero_ps();
        transpose8(r);
        for (int q = 0; q < 8; q++) store6(out + (p + q) * 6, r[q]);
      }
      for (; p < kc; p++) {
        for (int i = 0; i < 6; i++) out[p * 6 + i] = i < rows ? src[i * lda + p] : 0;
      }
    }
  }
}

__attribute__((target("avx2"))) void ad_pack_b_f32_avx2(int trans, const float *b, long ldb,
                                                            long kc, long nc, long nr, float *out) {
  if (!trans && nr % 8 == 0 && nc >= nr) {
    // Each panel takes nr floats of every row of B. Going panel by panel would read each row
    // once per panel, nr floats at a time from rows ldb apart (a pattern the caches and the
    // prefetcher handle badly: several times slower for a B of 512 columns); a group of
    // rows is read across all whole panels instead, and each panel gets a run of
    // ROW_GROUP · nr floats.
    long whole = nc / nr;
    for (long p0 = 0; p0 < kc; p0 += ROW_GROUP) {
      long p1 = p0 + ROW_GROUP < kc ? p0 + ROW_GROUP : kc;
      for (long panel = 0; panel < whole; panel++) {
        const float *src = b + panel * nr;
        float *dst = out + panel * kc * nr;
        if (nr == 16) {
          for (long p = p0; p < p1; p++) {
            __m256 v0 = _mm256_loadu_ps(src + p * ldb), v1 = _mm256_loadu_ps(src + p * ldb + 8);
            _mm256_storeu_ps(dst + p * 16, v0);
            _mm256_storeu_ps(dst + p * 16 + 8, v1);
          }
        } else {
          for (long p = p0; p < p1; p++) {
            for (long j = 0; j < nr; j += 8)
              _mm256_storeu_ps(dst + p * nr + j, _mm256_loadu_ps(src + p * ldb + j));
          }
        }
      }
    }
    if (whole * nr == nc) return;
    b += whole * nr;
    out += whole * kc * nr;
    nc -= whole * nr;
  }
  for (long j0 = 0; j0 < nc; j0 += nr, out += kc * nr) {
    long cols = nc - j0 < nr ? nc - j0 : nr;
    if (cols < nr && !trans && nr % 8 == 0 && nr <= 64) {
      // A last partial panel (a layer of 10 outputs, say): the row's first `cols` floats
      // through masked loads, which read nothing past them, and zeros after.
      __m256i masks[8];
      for (long jb = 0; jb < nr; jb += 8) {
        const long left = cols - jb;
        masks[jb / 8] = _mm256_cmpgt_epi32(
            _mm256_set1_epi32((int)(left < 0 ? 0 : left > 8 ? 8 : left)),
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
      }
      const float *src = b + j0;
      for (long p = 0; p < kc; p++, src += ldb) {
        for (long jb = 0; jb < nr; jb += 8)
          _mm256_storeu_ps(out + p * nr + jb, _mm256_maskload_ps(src + jb, masks[jb / 8]));
      }
    } else if (cols < nr || nr % 8 != 0) {
      // Zeros, then each column of op(B) (a row of B when transposed, read along its length).
      for (long i = 0; i < kc * nr; i++) out[i] = 0;
      for (long j = 0; j < cols; j++) {
        if (trans) {
          const float *row = b + (j0 + j) * ldb;
          for (long p = 0; p < kc; p++) out[p * nr + j] = row[p];
        } else {
          for (long p = 0; p < kc; p++) out[p * nr + j] = b[p * ldb + j0 + j];
        }
      }
    } else if (!trans) {
      const float *src = b + j0;
      for (long p = 0; p < kc; p++, src += ldb) {
        for (long j = 0; j < nr; j += 8) _mm256_storeu_ps(out + p * nr + j, _mm256_loadu_ps(src + j));
      }
    } else {
      // op(B) column j is row j of B: 8 rows and 8 columns at a time, transposed.
      for (long jb = 0; jb < nr; jb += 8) {
        const float *src = b + (j0 + jb) * ldb;
        long p = 0;
        for (; p + 8 <= kc; p += 8) {
          __m256 r[8];
          for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(src + j * ldb + p);
          transpose8(r);
          for (int q = 0; q < 8; q++) _mm256_storeu_ps(out + (p + q) * nr + jb, r[q]);
        }
        for (; p < kc; p++) {
          for (int j = 0; j < 8; j++) out[p * nr + jb + j] = src[j * ldb + p];
        }
      }
    }
  }
}

#endif
