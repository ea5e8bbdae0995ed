// YaRN-corrected rotary frequencies (DeepSeek model.py precompute_freqs_cis) and the interleaved rotation.
#include <algorithm>
#include <cmath>

#include "model/deepseek/deepseek.h"

namespace seek {

Rope make_rope(const DeepseekConfig& c) {
  Rope r;
  const int64_t dim = c.qk_rope_head_dim, half = dim / 2;
  const double base = c.rope_theta;
  r.freqs.resize(size_t(half));
  for (int64_t i = 0; i < half; ++i) r.freqs[size_t(i)] = 1.0 / std::pow(base, double(2 * i) / double(dim));
  if (c.rope_factor > 1.0f) {
    // The dimension index at which a frequency completes `rotations` turns over the original context.
    auto correction_dim = [&](double rotations) {
      return double(dim) * std::log(double(c.original_seq_len) / (rotations * 2.0 * M_PI)) / (2.0 * std::log(base));
    };
    const double low = std::max(0.0, std::floor(correction_dim(c.beta_fast)));
    const double high = std::min(double(dim - 1), std::ceil(correction_dim(c.beta_slow)));
    for (int64_t i = 0; i < half; ++i) {
      const double ramp = std::clamp((double(i) - low) / std::max(0.001, high - low), 0.0, 1.0);
      const double smooth = 1.0 - ramp;  // 1: keep the original frequency (high frequencies), 0: interpolate
      double& f = r.freqs[size_t(i)];
      f = f / c.rope_factor * (1.0 - smooth) + f * smooth;
    }
  }
  return r;
}

void Rope::apply(float* x, int64_t n_vec, int64_t stride, int64_t pos) const {
  const size_t half = freqs.size();
  float cs[256], sn[256];
  for (size_t i = 0; i < half; i += 256) {
    const size_t m = std::min<size_t>(256, half - i);
    for (size_t j = 0; j < m; ++j) {
      const double a = double(pos) * freqs[i + j];
      cs[j] = float(std::cos(a));
      sn[j] = float(std::sin(a));
    }
    for (int64_t v = 0; v < n_vec; ++v) {
      float* p = x + v * stride + 2 * i;
      for (size_t j = 0; j < m; ++j) {
        const float x0 = p[2 * j], x1 = p[2 * j + 1];
        p[2 * j] = x0 * cs[j] - x1 * sn[j];
        p[2 * j + 1] = x0 * sn[j] + x1 * cs[j];
      }
    }
  }
}

}  // namespace seek
