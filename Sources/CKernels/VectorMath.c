#include "CKernels.h"
#include <math.h>

// exp(x) = 2^k · e^r with k = round(x / ln 2) and |r| ≤ ln2 / 2; e^r by a degree-6
// polynomial (Taylor coefficients; relative error below 2e-7 on the reduced range). 2^k is
// applied as two powers of two, 2^(k − k/2) · 2^(k/2), each a normal float for every k in
// [−150, 128]: the result overflows to +∞ above ln(FLT_MAX) ≈ 88.72 and underflows through
// the subnormals to 0 below about −103.97, as exp does. NaN stays NaN.
// Written as plain loops with no calls so that the compiler vectorizes them. On x86-64 each
// loop is compiled three times, for AVX-512, AVX2 with FMA and the baseline, and the first
// call picks the best one for the CPU (ad_cpu_level). The choice is made here rather than by
// the loader (target_clones): the loader's resolver runs before sanitizers and other
// start-up code are ready, and a build with the thread sanitizer crashed in it.

#if defined(__x86_64__) && defined(__clang__)
#define AD_LOOP(NAME, ...)                                                                   \
  __attribute__((target("avx512f,fma"))) static void NAME##_avx512(                        \
      const float *restrict x, float *restrict y, long n) __VA_ARGS__                     \
  __attribute__((target("avx2,fma"))) static void NAME##_avx2(                             \
      const float *restrict x, float *restrict y, long n) __VA_ARGS__                     \
  static void NAME##_baseline(const float *restrict x, float *restrict y, long n)          \
      __VA_ARGS__                                                                          \
  static void NAME##_loop(const float *restrict x, float *restrict y, long n) {            \
    static int level = -1; /* the CPU's level, found on the first call */                  \
    int known = __atomic_load_n(&level, __ATOMIC_RELAXED);                                 \
    if (known < 0) {                                                                       \
      known = ad_cpu_level();                                                              \
      __atomic_store_n(&level, known, __ATOMIC_RELAXED);                                   \
    }                                                                                      \
    if (known == AD_ISA_AVX512) NAME##_avx512(x, y, n);                                    \
    else if (known == AD_ISA_AVX2) NAME##_avx2(x, y, n);                                   \
    else NAME##_baseline(x, y, n);                                                         \
  }
#else
#define AD_LOOP(NAME, ...) \
  static void NAME##_loop(const float *restrict x, float *restrict y, long n) __VA_ARGS__
#endif

static inline float power_of_two(int k) {
  union { float f; int i; } scale;
  scale.i = (k + 127) << 23;
  return scale.f;
}

static inline float exp_poly(float x) {
  float v = x > 89.0f ? 89.0f : x;
  v = v < -104.0f ? -104.0f : v;
  // Round to nearest by adding and subtracting 1.5 · 2²³ (no libm call, so it vectorizes).
  float k = (v * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = v - k * 0.693359375f;
  r = r - k * -2.12194440e-4f;
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  int ki = (int)k;
  int half = ki / 2;
  float y = p * power_of_two(ki - half) * power_of_two(half);
  return x != x ? x : y;
}

// Each function is a loop over restrict-qualified pointers, which the compiler vectorizes
// without a run-time overlap check. Without `restrict` it would fall back to a scalar loop
// whenever the input and output overlap, in-place calls included (eight times slower), so
// an in-place call goes through a small buffer on the stack instead.
#define AD_ELEMENTWISE(NAME)                                                  \
  void NAME(const float *x, float *y, long n) {                               \
    if (x != y) {                                                             \
      NAME##_loop(x, y, n);                                                   \
      return;                                                                 \
    }                                                                         \
    float buffer[256];                                                        \
    for (long start = 0; start < n; start += 256) {                           \
      long count = n - start < 256 ? n - start : 256;                         \
      for (long i = 0; i < count; i++) buffer[i] = x[start + i];              \
      NAME##_loop(buffer, y + start, count);                                  \
    }                                                                         \
  }

AD_LOOP(ad_exp_f32, {
  for (long i = 0; i < n; i++) y[i] = exp_poly(x[i]);
})

// σ(x) = 1 / (1 + e^−x); e^−x saturates to +large or 0 without NaN.
static inline float sigmoid_poly(float x) { return 1.0f / (1.0f + exp_poly(-x)); }

// tanh(x) = 1 − 2 / (e^{2x} + 1) for |x| ≥ 0.5; below, that form cancels, and the odd
// Taylor series to x¹³ is used instead (truncation error below 5e-8 there):
// x − x³/3 + 2x⁵/15 − 17x⁷/315 + 62x⁹/2835 − 1382x¹¹/155925 + 21844x¹³/6081075.
static inline float tanh_poly(float v) {
  float e = exp_poly(2.0f * v);
  float t = 1.0f - 2.0f / (e + 1.0f);
  float v2 = v * v;
  float q = 21844.0f / 6081075.0f;
  q = q * v2 - 1382.0f / 155925.0f;
  q = q * v2 + 62.0f / 2835.0f;
  q = q * v2 - 17.0f / 315.0f;
  q = q * v2 + 2.0f / 15.0f;
  q = q * v2 - 1.0f / 3.0f;
  float small = v + v * v2 * q;
  return (v < 0.5f && v > -0.5f) ? small : t;
}

AD_LOOP(ad_sigmoid_f32, {
  for (long i = 0; i < n; i++) y[i] = sigmoid_poly(x[i]);
})

AD_LOOP(ad_tanh_f32, {
  for (long i = 0; i < n; i++) y[i] = tanh_poly(x[i]);
})

// ln x = e · ln 2 + ln m, with x = m · 2^e and m in [√½, √2): ln m = ln(1 + f) for
// f = m − 1 in [−0.29, 0.41] by f − f²/2 + f³·P(f), P of degree 8 (the minimax coefficients
// of the Cephes library's logf; relative error below 2e-7). ln 2 is split into
// 0.693359375 + (−2.12194440e-4) so that e · ln 2 adds without rounding error. Subnormal x
// is first scaled by 2²³. ln 0 = −∞, ln x = NaN for x < 0 and NaN, ln ∞ = ∞.
static inline float log_poly(float x) {
  union { float f; int i; } u;
  int subnormal = x < 1.17549435e-38f;
  u.f = subnormal ? x * 8388608.0f : x;
  int e = ((u.i >> 23) & 0xff) - 127 - (subnormal ? 23 : 0);
  u.i = (u.i & 0x007fffff) | 0x3f800000;
  float m = u.f;
  int high = m > 1.41421356f;
  m = high ? 0.5f * m : m;
  float fe = (float)(high ? e + 1 : e);
  float f = m - 1.0f;
  float z = f * f;
  float p = 7.0376836292e-2f;
  p = p * f - 1.1514610310e-1f;
  p = p * f + 1.1676998740e-1f;
  p = p * f - 1.2420140846e-1f;
  p = p * f + 1.4249322787e-1f;
  p = p * f - 1.6668057665e-1f;
  p = p * f + 2.0000714765e-1f;
  p = p * f - 2.4999993993e-1f;
  p = p * f + 3.3333331174e-1f;
  float r = f * z * p;
  r = r + fe * -2.12194440e-4f;
  r = r - 0.5f * z;
  r = f + r;
  r = r + fe * 0.693359375f;
  r = x == 0.0f ? -INFINITY : r;
  r = (x < 0.0f || x != x) ? NAN : r;
  return x == INFINITY ? INFINITY : r;
}

AD_LOOP(ad_log_f32, {
  for (long i = 0; i < n; i++) y[i] = log_poly(x[i]);
})

AD_ELEMENTWISE(ad_exp_f32)
AD_ELEMENTWISE(ad_log_f32)
AD_ELEMENTWISE(ad_sigmoid_f32)
AD_ELEMENTWISE(ad_tanh_f32)

// MARK: - LSTM cells

// The CPU's level, found on the first call.
static int known_level(void) {
  static int level = -1;
  int known = __atomic_load_n(&level, __ATOMIC_RELAXED);
  if (known < 0) {
    known = ad_cpu_level();
    __atomic_store_n(&level, known, __ATOMIC_RELAXED);
  }
  return known;
}

// A function with any parameters compiled for each level like AD_LOOP's loops: PARAMS is
// its parenthesized parameter list, ARGS the same names as arguments.
#if defined(__x86_64__) && defined(__clang__)
#define AD_FUNCTION(NAME, PARAMS, ARGS, ...)                                                 \
  __attribute__((target("avx512f,fma"))) static void NAME##_avx512 PARAMS __VA_ARGS__     \
  __attribute__((target("avx2,fma"))) static void NAME##_avx2 PARAMS __VA_ARGS__          \
  static void NAME##_baseline PARAMS __VA_ARGS__                                           \
  void NAME PARAMS {                                                                       \
    int level = known_level();                                                             \
    if (level == AD_ISA_AVX512) NAME##_avx512 ARGS;                                        \
    else if (level == AD_ISA_AVX2) NAME##_avx2 ARGS;                                       \
    else NAME##_baseline ARGS;                                                             \
  }
#else
#define AD_FUNCTION(NAME, PARAMS, ARGS, ...) void NAME PARAMS __VA_ARGS__
#endif

AD_FUNCTION(ad_lstm_cell_f32,
            (long h, const float *restrict z, const float *restrict p,
             const float *restrict bias, float *restrict gates, const float *restrict c_old,
             float *restrict c, float *restrict tanh_c, float *restrict hidden),
            (h, z, p, bias, gates, c_old, c, tanh_c, hidden), {
  // Two loops, each with few dependent steps per element: one loop doing all of it would
  // chain two activations per element, and the processor could not overlap enough
  // elements to hide their latency (it ran about twice as long).
  for (long j = 0; j < 2 * h; j++) gates[j] = sigmoid_poly(z[j] + (p[j] + bias[j]));
  for (long j = 2 * h; j < 3 * h; j++) gates[j] = tanh_poly(z[j] + (p[j] + bias[j]));
  for (long j = 3 * h; j < 4 * h; j++) gates[j] = sigmoid_poly(z[j] + (p[j] + bias[j]));
  for (long j = 0; j < h; j++) {
    float cell = gates[j] * c_old[j] + gates[h + j] * gates[2 * h + j];
    float t = tanh_poly(cell);
    c[j] = cell;
    tanh_c[j] = t;
    hidden[j] = gates[3 * h + j] * t;
  }
})

AD_FUNCTION(ad_lstm_cell_backward_f32,
            (long h, const float *restrict gates, const float *restrict tanh_c,
             const float *restrict c_old, const float *restrict upstream,
             const float *restrict d_hidden, float *restrict d_cell, float *restrict dz,
             float *restrict d_p),
            (h, gates, tanh_c, c_old, upstream, d_hidden, d_cell, dz, d_p), {
  for (long j = 0; j < h; j++) {
    float f = gates[j], i = gates[h + j], g = gates[2 * h + j], o = gates[3 * h + j];
    float t = tanh_c[j];
    float dh = upstream[j] + d_hidden[j];
    float dc = dh * o * (1 - t * t) + d_cell[j];
    dz[j] = dc * c_old[j] * f * (1 - f);
    dz[h + j] = dc * g * i * (1 - i);
    dz[2 * h + j] = dc * i * (1 - g * g);
    dz[3 * h + j] = dh * t * o * (1 - o);
    d_cell[j] = dc * f;
  }
  if (d_p) {
    for (long j = 0; j < 4 * h; j++) d_p[j] += dz[j];
  }
})
