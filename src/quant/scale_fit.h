// Scale fitting for the k-quants: given a group of values, choose the integer codes and the scale (and for the
// asymmetric types the offset) that minimise a weighted squared (or absolute) error. These are the searches
// ggml's reference quantisers use (make_qx_quants, make_q3_quants, make_qkx2_quants), with the same float
// arithmetic in the same order, so a group gets the same codes here as in llama.cpp.
#pragma once

#include <cmath>
#include <cstdint>

namespace seek::quant {

constexpr float kGroupMaxEps = 1e-15f;  // a group whose largest |x| is below this is all zero

// Round to nearest, ties to even (what ggml's nearest_int does with its 1.5*2^23 trick, which is exact for
// |v| < 2^22). Larger magnitudes (and NaN) saturate there instead of being undefined.
inline int nearest_int(float v) {
  if (!(std::fabs(v) < 4194304.0f)) v = v > 0 ? 4194303.0f : -4194303.0f;
  return int(std::nearbyintf(v));
}

// Symmetric codes: x[i] ~ scale * (L[i] - nmax), L in [0, 2*nmax). Starts from the scale that maps the value of
// largest magnitude to -nmax, then tries 18 nearby scales and keeps the one with the best weighted
// least-squares fit; weights are w (or x^2 where w is null). Returns the scale. (ggml: make_qx_quants, type 1)
float fit_symmetric(int n, int nmax, const float* x, int8_t* L, const float* w);

// Symmetric codes as above (L in [0, 2*nmax)), refined by coordinate descent: each code in turn moves to the
// value that is optimal given the others, for up to 5 sweeps, weights x^2. (ggml: make_q3_quants, do_rmse)
float fit_symmetric_iterative(int n, int nmax, const float* x, int8_t* L);

// Asymmetric codes: x[i] ~ scale * L[i] - min_out, L in [0, nmax], min_out >= 0. Scans nstep+1 scales
// (nmax + rmin + rdelta*k over the range) and solves the weighted least-squares scale and offset for each set
// of codes; keeps the one with the least weighted error (|e| when use_mad, else e^2). Returns the scale.
// (ggml: make_qkx2_quants)
float fit_scale_min(int n, int nmax, const float* x, const float* w, uint8_t* L, float* min_out, float rmin,
                    float rdelta, int nstep, bool use_mad);

// Index of the entry of the ascending table `values` nearest to x (the upper one on a tie).
int nearest_level(const int8_t* values, int n, float x);

}  // namespace seek::quant
