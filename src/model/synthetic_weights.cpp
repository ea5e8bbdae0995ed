// splitmix64 draws, name hashing and row encoding for the generated models.
#include "model/synthetic_weights.h"

#include <cstring>

#include "core/half.h"
#include "formats/gguf.h"
#include "kernels/kernels.h"

namespace seek {

namespace {

// splitmix64: a tiny, well-mixed, fully deterministic generator.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [-1, 1).
  float uniform() { return float(double(next() >> 11) * (2.0 / 9007199254740992.0) - 1.0); }
};

uint64_t hash_name(uint64_t seed, const std::string& name) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char ch : name) h = (h ^ ch) * 1099511628211ull;
  return h;
}

void encode_row(const float* src, GgmlType type, int64_t n, uint8_t* dst) {
  switch (type) {
    case GgmlType::F32: std::memcpy(dst, src, size_t(n) * 4); break;
    case GgmlType::F16:
      for (int64_t i = 0; i < n; ++i) reinterpret_cast<uint16_t*>(dst)[i] = f32_to_f16(src[i]);
      break;
    case GgmlType::BF16:
      for (int64_t i = 0; i < n; ++i) reinterpret_cast<uint16_t*>(dst)[i] = f32_to_bf16(src[i]);
      break;
    case GgmlType::Q8_0: quantize_row_q8_0(src, dst, n); break;
    default: break;
  }
}

}  // namespace

void add_random_tensor(GgufWriter& w, uint64_t seed0, const std::string& name, GgmlType type, std::vector<int64_t> dims,
                       float centre, float spread) {
  const uint64_t seed = hash_name(seed0, name);
  const int64_t ne0 = dims[0];
  w.add_tensor(name, type, dims, [=](uint8_t* dst, size_t nbytes) {
    Rng rng{seed};
    std::vector<float> row(static_cast<size_t>(ne0));
    const size_t rb = row_bytes(type, ne0);
    for (size_t off = 0; off + rb <= nbytes; off += rb) {
      for (auto& v : row) v = centre + spread * rng.uniform();
      encode_row(row.data(), type, ne0, dst + off);
    }
  });
}

}  // namespace seek
