#include "CKernels.h"
#include <math.h>

// exp(x) = 2^k · e^r with k = round(x / ln 2) and |r| ≤ ln2 / 2; e^r by a degree-6
// polynomial (Taylor coefficients; relative error below 2e-7 on the reduced range).
// Written as plain loops with no calls so that the compiler vectorizes them.

static inline float exp_poly(float x) {
  if (x > 88.3762626647949f) x = 88.3762626647949f;
  if (x < -87.3365447505531f) x = -87.3365447505531f;
  float k = __builtin_roundf(x * 1.44269504088896341f);
  float r = x - k * 0.693359375f;
  r = r - k * -2.12194440e-4f;
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  union { float f; int i; } scale;
  scale.i = ((int)k + 127) << 23;
  return p * scale.f;
}

void ad_exp_f32(const float *x, float *y, long n) {
  for (long i = 0; i < n; i++) y[i] = exp_poly(x[i]);
}

void ad_sigmoid_f32(const float *x, float *y, long n) {
  for (long i = 0; i < n; i++) {
    // σ(x) = 1 / (1 + e^−x); e^−x saturates to +large or 0 without NaN.
    y[i] = 1.0f / (1.0f + exp_poly(-x[i]));
  }
}

void ad_tanh_f32(const float *x, float *y, long n) {
  for (long i = 0; i < n; i++) {
    // tanh(x) = 1 − 2 / (e^{2x} + 1); accurate to a few ulp away from 0, and for
    // |x| < 0.004 the odd series x − x³/3 avoids cancellation.
    float v = x[i];
    float e = exp_poly(2.0f * v);
    float t = 1.0f - 2.0f / (e + 1.0f);
    float small = v - v * v * v * (1.0f / 3.0f);
    y[i] = (v < 0.004f && v > -0.004f) ? small : t;
  }
}
