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

/// Thin kernels: the product of an edge kernel for m ≤ 2 rows over several panels of B at
/// once, panel q starting at b + q·panel_stride: 4 panels for one row, 2 for two rows
/// (ad_gemm_thin_panels). Each element's sum runs in the same order as in the other
/// kernels; the extra panels give the processor independent sums to overlap, where one
/// panel leaves it waiting on the latency of each multiply-add.
typedef void (*ad_gemm_thin_kernel_f32)(long kc, const float *a, const float *b, long ldb,
                                        long panel_stride, float *c, long ldc, int accumulate,
                                        long m);
typedef void (*ad_gemm_thin_kernel_f64)(long kc, const double *a, const double *b, long ldb,
                                        long panel_stride, double *c, long ldc, int accumulate,
                                        long m);

/// The number of panels a thin kernel covers for m rows (1 or 2).
static inline long ad_gemm_thin_panels(long m) { return m == 1 ? 4 : 2; }

/// Packs an mc × kc block of op(A) (a points at its first element as stored; op(A)[i][p]
/// is a[i·lda + p], or a[p·lda + i] when trans is nonzero) into panels of 6 rows, each
/// stored column by column (out[panel·kc·6 + p·6 + i]); rows past mc are zero.
typedef void (*ad_gemm_pack_a_f32)(int trans, const float *a, long lda, long mc, long kc,
                                   float *out);
/// Packs a kc × nc block of op(B) (op(B)[p][j] is b[p·ldb + j], or b[j·ldb + p] when trans
/// is nonzero) into panels of nr columns, each stored row by row
/// (out[panel·kc·nr + p·nr + j]); columns past nc are zero.
typedef void (*ad_gemm_pack_b_f32)(int trans, const float *b, long ldb, long kc, long nc,
                                   long nr, float *out);

/// The kernels and register-block sizes chosen for this CPU. The edge kernels are NULL
/// where the instruction set has no masked stores (the portable kernels); partial tiles
/// then go through a scratch tile. The packing functions are NULL where the Swift packing
/// is used (the portable level, and Double). The thin kernels are NULL where there are none
/// (all but AVX2); the edge kernels then do those rows one panel at a time.
typedef struct {
  ad_gemm_kernel_f32 kernel_f32;
  long mr_f32, nr_f32;
  ad_gemm_kernel_f64 kernel_f64;
  long mr_f64, nr_f64;
  const char *isa;
  ad_gemm_edge_kernel_f32 edge_f32;
  ad_gemm_edge_kernel_f64 edge_f64;
  ad_gemm_pack_a_f32 pack_a_f32;
  ad_gemm_pack_b_f32 pack_b_f32;
  ad_gemm_thin_kernel_f32 thin_f32;
  ad_gemm_thin_kernel_f64 thin_f64;
} ad_gemm_config;

/// Instruction-set levels, best first.
enum { AD_ISA_AVX512 = 2, AD_ISA_AVX2 = 1, AD_ISA_PORTABLE = 0 };

/// The configuration for the best level this CPU supports, capped at `max_level`
/// (AD_ISA_PORTABLE forces the portable kernels, for tests).
ad_gemm_config ad_gemm_select(int max_level);

/// The best level this CPU supports.
int ad_cpu_level(void);

/// C (+)= op(A) · op(B) for a product too small to pack: op(A) is m × k (A[i][p] is
/// a[i·lda + p], or a[p·lda + i] when trans_a is nonzero), op(B) is k × n (likewise with ldb
/// and trans_b), C is m × n with row stride ldc. Each element of C is summed in the order
/// p = 0, 1, …, k − 1, one multiply and one add at a time (never fused), starting from its
/// own value when accumulate is nonzero and from 0 otherwise: exactly the sequential sum.
/// C may not overlap A or B.
void ad_small_gemm_f32(int trans_a, int trans_b, long m, long n, long k, const float *a,
                       long lda, const float *b, long ldb, float *c, long ldc, int accumulate);
void ad_small_gemm_f64(int trans_a, int trans_b, long m, long n, long k, const double *a,
                       long lda, const double *b, long ldb, double *c, long ldc,
                       int accumulate);

/// The elementwise functions below take arrays x and y that are either the same array (in
/// place) or do not overlap.
///
/// y[i] = exp(x[i]) for n elements, by a polynomial with relative error below 3e-7 where
/// the result is a normal float (x in [−87.3, 88.72]); +∞ above ln(FLT_MAX) ≈ 88.72,
/// subnormals down to 0 below −87.3 (absolute error below 2e-45), NaN for NaN.
void ad_exp_f32(const float *x, float *y, long n);
/// y[i] = ln(x[i]) for n elements, by a polynomial with relative error below 2e-7 (absolute
/// below 2e-7 near x = 1); −∞ at 0, NaN below 0 and for NaN, +∞ at +∞; subnormals included.
void ad_log_f32(const float *x, float *y, long n);
/// y[i] = 1 / (1 + exp(-x[i])).
void ad_sigmoid_f32(const float *x, float *y, long n);
/// y[i] = tanh(x[i]).
void ad_tanh_f32(const float *x, float *y, long n);

/// One step of an LSTM cell for one row of h units, with the gates in the order forget,
/// input, candidate, output: the pre-activations are a = z + (p + bias) (each [4h]), and
/// ```
/// gates = [σ(a_f), σ(a_i), tanh(a_g), σ(a_o)]
/// c = f ⊙ c_old + i ⊙ g,   tanh_c = tanh(c),   hidden = o ⊙ tanh_c
/// ```
/// σ and tanh as ad_sigmoid_f32 and ad_tanh_f32 compute them. No output array may overlap
/// another array.
void ad_lstm_cell_f32(long h, const float *z, const float *p, const float *bias, float *gates,
                      const float *c_old, float *c, float *tanh_c, float *hidden);
/// The backward of one step of ad_lstm_cell_f32 for one row, from its gates and tanh_c, the
/// previous cell state c_old, and the gradient reaching the hidden state from the output
/// (upstream) and from the next step (d_hidden):
/// ```
/// ∂h = upstream + d_hidden,   ∂c = ∂h ⊙ o ⊙ (1 − tanh_c²) + d_cell
/// dz = [∂c ⊙ c_old ⊙ f(1 − f), ∂c ⊙ g ⊙ i(1 − i), ∂c ⊙ i ⊙ (1 − g²), ∂h ⊙ tanh_c ⊙ o(1 − o)]
/// ```
/// and d_cell becomes ∂c ⊙ f, the gradient of the previous cell state. When d_p is not
/// NULL, dz is also added into it ([4h]). dz and d_p may not overlap another array.
void ad_lstm_cell_backward_f32(long h, const float *gates, const float *tanh_c,
                               const float *c_old, const float *upstream,
                               const float *d_hidden, float *d_cell, float *dz, float *d_p);

/// A job for the thread pool: runs one index of the work.
typedef void (*ad_pool_job)(void *context, long index);

/// Runs job(context, i) for every i in 0..<iterations on up to `threads` threads (and no
/// more than the machine's cores): the calling thread and the pool's workers, each taking
/// the next index as it becomes free.
/// Returns when every index has run, and 1; or, without running anything, 0 when there is
/// nothing to split (fewer than 2 iterations or threads) or the pool is busy with another
/// job (a job submitted from inside a job, or from another thread at the same time): the
/// caller then runs the indices itself.
int ad_pool_run(long iterations, int threads, ad_pool_job job, void *context);

#ifdef __cplusplus
}
#endif

#endif
