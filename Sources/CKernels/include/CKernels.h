#ifndef AUTODIFF_CKERNELS_H
#define AUTODIFF_CKERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A matrix-product micro-kernel: C[0..<mr, 0..<nr] (+)= Apanel · Bpanel, where Apanel holds
/// kc columns of mr values (packed column by column) and Bpanel kc rows of nr values, row p
/// starting at b + p·ldb (ldb = nr for a packed panel, or B's own row stride when B is read
/// in place). C has row stride ldc. When accumulate is 0, C is overwritten.
typedef void (*ad_gemm_kernel_f32)(long kc, const float *a, const float *b, long ldb, float *c,
                                   long ldc, int accumulate);
typedef void (*ad_gemm_kernel_f64)(long kc, const double *a, const double *b, long ldb,
                                   double *c, long ldc, int accumulate);

/// Edge kernels: the same product for a partial tile, writing only the first m rows and n
/// columns of C (the packed panels are zero-padded, so the arithmetic is unchanged).
typedef void (*ad_gemm_edge_kernel_f32)(long kc, const float *a, const float *b, long ldb,
                                        float *c, long ldc, int accumulate, long m, long n);
typedef void (*ad_gemm_edge_kernel_f64)(long kc, const double *a, const double *b, long ldb,
                                        double *c, long ldc, int accumulate, long m, long n);

/// The kernels and register-block sizes chosen for this CPU. The edge kernels are NULL
/// where the instruction set has no masked stores (the portable kernels); partial tiles
/// then go through a scratch tile.
typedef struct {
  ad_gemm_kernel_f32 kernel_f32;
  long mr_f32, nr_f32;
  ad_gemm_kernel_f64 kernel_f64;
  long mr_f64, nr_f64;
  const char *isa;
  ad_gemm_edge_kernel_f32 edge_f32;
  ad_gemm_edge_kernel_f64 edge_f64;
} ad_gemm_config;

/// Instruction-set levels, best first.
enum { AD_ISA_AVX512 = 2, AD_ISA_AVX2 = 1, AD_ISA_PORTABLE = 0 };

/// The configuration for the best level this CPU supports, capped at `max_level`
/// (AD_ISA_PORTABLE forces the portable kernels, for tests).
ad_gemm_config ad_gemm_select(int max_level);

/// The best level this CPU supports.
int ad_cpu_level(void);

/// The elementwise functions below take arrays x and y that are either the same array (in
/// place) or do not overlap.
///
/// y[i] = exp(x[i]) for n elements, by a polynomial with relative error below 3e-7 where
/// the result is a normal float (x in [−87.3, 88.72]); +∞ above ln(FLT_MAX) ≈ 88.72,
/// subnormals down to 0 below −87.3 (absolute error below 2e-45), NaN for NaN.
void ad_exp_f32(const float *x, float *y, long n);
/// y[i] = 1 / (1 + exp(-x[i])).
void ad_sigmoid_f32(const float *x, float *y, long n);
/// y[i] = tanh(x[i]).
void ad_tanh_f32(const float *x, float *y, long n);

#ifdef __cplusplus
}
#endif

#endif
