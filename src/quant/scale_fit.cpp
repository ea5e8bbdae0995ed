// Scale fitting for the k-quants (see scale_fit.h). The sums are accumulated in float, element by element, in
// the order ggml uses: that order is part of what makes the chosen codes identical to llama.cpp's.
#include "quant/scale_fit.h"

#include <algorithm>
#include <cstring>

namespace seek::quant {

namespace {

// The element of largest magnitude (its signed value); 0 when all are 0.
float signed_absmax(int n, const float* x, float* amax_out) {
  float amax = 0, max = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  *amax_out = amax;
  return max;
}

// Weighted sums of a symmetric code assignment at inverse scale `iscale`: sumlx = sum w*x*l, suml2 = sum w*l*l.
struct Sums {
  float lx = 0, l2 = 0;
};

Sums symmetric_sums(int n, int nmax, const float* x, const float* w, float iscale) {
  Sums s;
  for (int i = 0; i < n; ++i) {
    const int l = std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1);
    const float wi = w ? w[i] : x[i] * x[i];
    s.lx += wi * x[i] * float(l);
    s.l2 += wi * float(l) * float(l);
  }
  return s;
}

void symmetric_codes(int n, int nmax, const float* x, float iscale, int8_t* L) {
  for (int i = 0; i < n; ++i) L[i] = int8_t(nmax + std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1));
}

}  // namespace

float fit_symmetric(int n, int nmax, const float* x, int8_t* L, const float* w) {
  float amax;
  const float max = signed_absmax(n, x, &amax);
  if (amax < kGroupMaxEps) {
    std::memset(L, 0, size_t(n));
    return 0.0f;
  }
  // The extreme value maps to -nmax: the full negative range is one code longer than the positive one.
  float iscale = float(-nmax) / max;
  Sums s = symmetric_sums(n, nmax, x, w, iscale);
  symmetric_codes(n, nmax, x, iscale, L);
  float scale = s.l2 != 0.0f ? s.lx / s.l2 : 0.0f;
  float best = scale * s.lx;  // = (sum w x l)^2 / sum w l^2: the error reduction of the least-squares scale
  for (int step = -9; step <= 9; ++step) {
    if (step == 0) continue;
    iscale = -(float(nmax) + 0.1f * float(step)) / max;
    s = symmetric_sums(n, nmax, x, w, iscale);
    if (s.l2 > 0 && s.lx * s.lx > best * s.l2) {
      symmetric_codes(n, nmax, x, iscale, L);
      scale = s.lx / s.l2;
      best = scale * s.lx;
    }
  }
  return scale;
}

float fit_symmetric_iterative(int n, int nmax, const float* x, int8_t* L) {
  float amax;
  const float max = signed_absmax(n, x, &amax);
  if (amax < kGroupMaxEps) {
    std::memset(L, 0, size_t(n));
    return 0.0f;
  }
  const float iscale = float(-nmax) / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1);
    L[i] = int8_t(l);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * float(l);
    suml2 += w * float(l) * float(l);
  }
  // Coordinate descent on the ratio (sum w x l)^2 / sum w l^2, which the least-squares scale maximises.
  for (int sweep = 0; sweep < 5; ++sweep) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      float slx = sumlx - w * x[i] * float(L[i]);
      if (slx > 0) {
        float sl2 = suml2 - w * float(L[i]) * float(L[i]);
        const int nl = std::clamp(nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
        if (nl != L[i]) {
          slx += w * x[i] * float(nl);
          sl2 += w * float(nl) * float(nl);
          if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = int8_t(nl);
            sumlx = slx;
            suml2 = sl2;
            ++changed;
          }
        }
      }
    }
    if (!changed) break;
  }
  for (int i = 0; i < n; ++i) L[i] = int8_t(L[i] + nmax);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

float fit_scale_min(int n, int nmax, const float* x, const float* w, uint8_t* L, float* min_out, float rmin,
                    float rdelta, int nstep, bool use_mad) {
  float min = x[0], max = x[0];
  float sum_w = w[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    min = std::min(min, x[i]);
    max = std::max(max, x[i]);
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (min > 0) min = 0;  // the offset only ever lowers values: codes start at min(x, 0)
  if (max == min) {
    std::memset(L, 0, size_t(n));
    *min_out = -min;
    return 0.0f;
  }
  auto error_of = [&](float scale, float offset, const uint8_t* codes) {
    float e = 0;
    for (int i = 0; i < n; ++i) {
      float diff = scale * float(codes[i]) + offset - x[i];
      diff = use_mad ? std::fabs(diff) : diff * diff;
      e += w[i] * diff;
    }
    return e;
  };
  float iscale = float(nmax) / (max - min);
  float scale = 1 / iscale;
  for (int i = 0; i < n; ++i) L[i] = uint8_t(std::clamp(nearest_int(iscale * (x[i] - min)), 0, nmax));
  float best_error = error_of(scale, min, L);
  if (nstep < 1) {
    *min_out = -min;
    return scale;
  }
  uint8_t Laux[256];
  for (int step = 0; step <= nstep; ++step) {
    iscale = (rmin + rdelta * float(step) + float(nmax)) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(nearest_int(iscale * (x[i] - min)), 0, nmax);
      Laux[i] = uint8_t(l);
      sum_l += w[i] * float(l);
      sum_l2 += w[i] * float(l) * float(l);
      sum_xl += w[i] * float(l) * x[i];
    }
    // Weighted least squares for x ~ a*l + b over these codes (normal equations, determinant D).
    const float D = sum_w * sum_l2 - sum_l * sum_l;
    if (D > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
      if (this_min > 0) {  // a positive offset is not representable: refit the scale alone
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      const float e = error_of(this_scale, this_min, Laux);
      if (e < best_error) {
        std::memcpy(L, Laux, size_t(n));
        best_error = e;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *min_out = -min;
  return scale;
}

int nearest_level(const int8_t* values, int n, float x) {
  if (x <= float(values[0])) return 0;
  if (x >= float(values[n - 1])) return n - 1;
  int lo = 0, hi = n - 1;  // values[lo] <= x < values[hi]
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (x < float(values[mid]))
      hi = mid;
    else
      lo = mid;
  }
  return x - float(values[hi - 1]) < float(values[hi]) - x ? hi - 1 : hi;
}

}  // namespace seek::quant
