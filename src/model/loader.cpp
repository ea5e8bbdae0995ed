// Shared GGUF loading helpers for the model families.
#include "model/loader.h"

#include <cmath>

#include "formats/gguf.h"
#include "kernels/kernels.h"

namespace seek {

namespace {

std::string dims_str(const std::vector<int64_t>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

}  // namespace

Result<void> read_int(const GgufFile& f, const std::string& key, int64_t* out, bool required, int64_t lo, int64_t hi) {
  auto v = f.get_int(key);
  if (!v) return v.error();
  if (!v->has_value()) {
    if (required) return err("%s: metadata key %s is missing", f.path.c_str(), key.c_str());
    return {};
  }
  const int64_t x = **v;
  if (x < lo || x > hi)
    return err("%s: metadata key %s = %lld is out of range [%lld, %lld]", f.path.c_str(), key.c_str(), (long long)x,
               (long long)lo, (long long)hi);
  *out = x;
  return {};
}

Result<void> read_float(const GgufFile& f, const std::string& key, float* out, bool required) {
  auto v = f.get_float(key);
  if (!v) return v.error();
  if (!v->has_value()) {
    if (required) return err("%s: metadata key %s is missing", f.path.c_str(), key.c_str());
    return {};
  }
  if (!std::isfinite(**v)) return err("%s: metadata key %s is not a finite number", f.path.c_str(), key.c_str());
  *out = float(**v);
  return {};
}

std::string supported_types() {
  std::string s;
  for (uint32_t id = 0; id < kMaxTypeId; ++id)
    if (ref_kernels().supports(GgmlType(id))) s += (s.empty() ? "" : ", ") + std::string(traits(GgmlType(id)).name);
  return s;
}

Result<Mat> TensorLoader::get(const std::string& name, std::vector<int64_t> dims, bool optional) {
  const GgufTensor* t = f_.tensor(name);
  if (!t) {
    if (optional) return Mat{};
    return err("%s: tensor %s is missing (expected shape %s)", f_.path.c_str(), name.c_str(), dims_str(dims).c_str());
  }
  std::vector<int64_t> have = t->dims;
  while (have.size() < dims.size()) have.push_back(1);
  while (dims.size() < have.size()) dims.push_back(1);
  if (have != dims)
    return err("%s: tensor %s has shape %s, expected %s", f_.path.c_str(), name.c_str(), dims_str(t->dims).c_str(),
               dims_str(dims).c_str());
  if (iq_grids_missing(t->type))
    return err("%s: tensor %s has type %s, but %s", f_.path.c_str(), name.c_str(),
               std::string(traits(t->type).name).c_str(), kNoIqGridsMessage);
  if (!ref_kernels().supports(t->type))
    return err("%s: tensor %s has type %s, which seek cannot compute yet (supported: %s)", f_.path.c_str(),
               name.c_str(), std::string(traits(t->type).name).c_str(), supported_types().c_str());
  if (!t->parts.empty())
    return err("%s: tensor %s is stored as %zu parts and cannot be read as one matrix", f_.path.c_str(),
               name.c_str(), t->parts.size());
  if (t->type == GgmlType::F8_E4M3 && !t->scales)
    return err("%s: FP8 tensor %s has no block scales", f_.path.c_str(), name.c_str());
  Mat m;
  m.type = t->type;
  m.cols = dims[0];
  m.rows = t->n_elements() / (dims[0] ? dims[0] : 1);
  m.row_stride = row_bytes(t->type, dims[0]);
  m.data = t->data;
  m.scales = t->scales;
  m.scale_cols = (m.cols + 127) / 128;
  bytes_ += t->nbytes;
  return m;
}

Result<std::vector<Mat>> TensorLoader::experts(const std::string& name, int64_t cols, int64_t rows, int64_t n_experts) {
  const GgufTensor* t = f_.tensor(name);
  std::vector<Mat> out;
  if (t && !t->parts.empty()) {
    // Parts are made by the folder reader, which checked each part's shape and type.
    if (t->dims != std::vector<int64_t>{cols, rows, n_experts} || int64_t(t->parts.size()) != n_experts ||
        t->part_rows != rows)
      return err("%s: tensor %s has shape %s, expected [%lld, %lld, %lld]", f_.path.c_str(), name.c_str(),
                 dims_str(t->dims).c_str(), (long long)cols, (long long)rows, (long long)n_experts);
    for (int64_t e = 0; e < n_experts; ++e) {
      Mat m;
      m.type = t->type;
      m.rows = rows;
      m.cols = cols;
      m.row_stride = row_bytes(t->type, cols);
      m.data = t->parts[size_t(e)];
      if (t->type == GgmlType::F8_E4M3) {
        m.scales = t->part_scales[size_t(e)];
        m.scale_cols = (cols + 127) / 128;
      }
      out.push_back(m);
    }
    bytes_ += t->nbytes;
    return out;
  }
  Mat all;
  SEEK_ASSIGN(all, get(name, {cols, rows, n_experts}));
  for (int64_t e = 0; e < n_experts; ++e) out.push_back(all.slice_rows(e * rows, rows));
  return out;
}

Result<int64_t> TensorLoader::embedding_rows(int64_t dim, int64_t expected_vocab) {
  const GgufTensor* emb = f_.tensor("token_embd.weight");
  if (!emb) return err("%s: tensor token_embd.weight is missing", f_.path.c_str());
  if (emb->dims.size() != 2 || emb->dims[0] != dim)
    return err("%s: tensor token_embd.weight has shape %s, expected [%lld, vocab]", f_.path.c_str(),
               dims_str(emb->dims).c_str(), (long long)dim);
  const int64_t vocab = emb->dims[1];
  if (expected_vocab && expected_vocab != vocab)
    return err("%s: token_embd.weight has %lld rows but the vocabulary has %lld tokens", f_.path.c_str(),
               (long long)vocab, (long long)expected_vocab);
  return vocab;
}

Result<std::vector<float>> TensorLoader::vec(const std::string& name, int64_t n, bool optional) {
  auto m = get(name, {n}, optional);
  if (!m) return m.error();
  std::vector<float> v;
  if (m->empty()) return v;
  v.resize(static_cast<size_t>(n));
  ref_kernels().of(m->type).dequant(m->data, v.data(), n);
  return v;
}

}  // namespace seek
