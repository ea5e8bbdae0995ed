// The tensor list `seek convert` writes: what llama.cpp's convert_hf_to_gguf.py makes of each tensor, as sources
// for the quantising writer (quant/model_quantize.h).
#include "model/convert.h"

#include "formats/gguf.h"
#include "kernels/kernels.h"
#include "model/hf_folder.h"
#include "model/loader.h"
#include "model/model.h"

namespace seek {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The type llama.cpp's converter gives a tensor before any quantisation: norms, biases, 1-D tensors and the router
// in f32, other weights in the output type.
GgmlType converter_type(const GgufTensor& t, GgmlType base) {
  if (t.dims.size() < 2 || ends_with(t.name, "_norm.weight") || ends_with(t.name, ".bias") ||
      t.name.find("ffn_gate_inp") != std::string::npos)
    return GgmlType::F32;
  return base;
}

struct MlaShape {
  int64_t heads = 0, nope = 0, v_head = 0, kv_lora = 0;
};

Result<MlaShape> mla_shape(const GgufFile& f) {
  MlaShape s;
  int64_t key_mla = 0, rope = 0;
  SEEK_TRY(read_int(f, "deepseek2.attention.head_count", &s.heads, true, 1, 65536));
  SEEK_TRY(read_int(f, "deepseek2.attention.key_length_mla", &key_mla, true, 1, kMaxWidth));
  SEEK_TRY(read_int(f, "deepseek2.rope.dimension_count", &rope, true, 1, kMaxWidth));
  SEEK_TRY(read_int(f, "deepseek2.attention.value_length_mla", &s.v_head, true, 1, kMaxWidth));
  SEEK_TRY(read_int(f, "deepseek2.attention.kv_lora_rank", &s.kv_lora, true, 1, kMaxWidth));
  s.nope = key_mla - rope;
  if (s.nope < 1) return err("%s: key_length_mla leaves no non-rotary part", f.path.c_str());
  return s;
}

// attn_kv_b (per head: nope rows of W_uk, then v_head rows of W_uv, each kv_lora wide) becomes llama.cpp's
// attn_k_b {nope, kv_lora, H} (W_uk transposed per head) and attn_v_b {kv_lora, v_head, H} (W_uv's rows).
Result<void> split_kv_b(const GgufFile& f, const GgufTensor& t, const MlaShape& m, GgmlType base,
                        std::vector<SourceTensor>& out) {
  const int64_t per = m.nope + m.v_head;
  if (t.dims != std::vector<int64_t>{m.kv_lora, m.heads * per})
    return err("%s: tensor %s has an unexpected shape for kv_lora_rank %lld and %lld heads", f.path.c_str(),
               t.name.c_str(), (long long)m.kv_lora, (long long)m.heads);
  const std::string p = t.name.substr(0, t.name.size() - std::string("attn_kv_b.weight").size());
  SourceTensor v{p + "attn_v_b.weight", {m.kv_lora, m.v_head, m.heads}, base, &t, {}, {}};
  for (int64_t h = 0; h < m.heads; ++h)
    for (int64_t j = 0; j < m.v_head; ++j) v.row_map.push_back(h * per + m.nope + j);
  SourceTensor k{p + "attn_k_b.weight", {m.nope, m.kv_lora, m.heads}, base, nullptr, {}, {}};
  const GgufTensor* src = &t;
  k.compute = [src, m, per]() {
    std::vector<float> row(size_t(m.kv_lora)), out(size_t(m.heads * m.kv_lora * m.nope));
    for (int64_t h = 0; h < m.heads; ++h)
      for (int64_t n = 0; n < m.nope; ++n) {
        dequant_tensor_row(*src, h * per + n, row.data());
        for (int64_t l = 0; l < m.kv_lora; ++l) out[size_t((h * m.kv_lora + l) * m.nope + n)] = row[size_t(l)];
      }
    return out;
  };
  out.push_back(std::move(k));
  out.push_back(std::move(v));
  return {};
}

// Llama q/k rows from Hugging Face's order (rotate-half pairs i and i + hd/2) to GGUF's interleaved pairs
// (2i, 2i + 1), per head, as llama.cpp's converter permutes them.
std::vector<int64_t> rope_permutation(int64_t rows, int64_t heads) {
  std::vector<int64_t> map(static_cast<size_t>(rows));
  const int64_t hd = rows / heads, half = hd / 2;
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t j = 0; j < 2; ++j) map[size_t(h * hd + 2 * i + j)] = h * hd + j * half + i;
  return map;
}

}  // namespace

Result<QuantizeSummary> convert_model(const std::string& in, const std::string& out, const QuantRecipe& recipe,
                                      int n_threads, const ProgressFn& progress) {
  auto opened = open_model_file(in);
  if (!opened) return opened.error();
  const GgufFile& f = *opened;
  auto arch = f.get_string("general.architecture");
  if (!arch) return arch.error();
  const std::string a = arch->value_or("");
  auto neox = f.get_bool(kHfRopeNeoxKey);
  if (!neox) return neox.error();
  const bool permute = a == "llama" && neox->value_or(false);

  std::vector<std::pair<std::string, GgufValue>> kv;
  for (const auto& e : f.kv)
    if (e.first.rfind("seek.", 0) != 0) kv.push_back(e);

  const GgmlType base = recipe.base == GgmlType::F32 ? GgmlType::F32
                        : recipe.base == GgmlType::F16 ? GgmlType::F16
                                                       : GgmlType::BF16;
  std::vector<SourceTensor> sources;
  MlaShape mla;
  if (a == "deepseek2" && !f.tensors.empty()) SEEK_ASSIGN(mla, mla_shape(f));
  int64_t heads = 0, heads_kv = 0;
  if (permute) {
    SEEK_TRY(read_int(f, "llama.attention.head_count", &heads, true, 1, 65536));
    heads_kv = heads;
    SEEK_TRY(read_int(f, "llama.attention.head_count_kv", &heads_kv, false, 1, 65536));
  }
  for (const GgufTensor& t : f.tensors) {
    const GgmlType type = converter_type(t, base);
    if (a == "deepseek2" && ends_with(t.name, ".attn_kv_b.weight")) {
      SEEK_TRY(split_kv_b(f, t, mla, type, sources));
      continue;
    }
    SourceTensor s{t.name, t.dims, type, &t, {}, {}};
    if (permute && (ends_with(t.name, ".attn_q.weight") || ends_with(t.name, ".attn_q.bias") ||
                    ends_with(t.name, ".attn_k.weight") || ends_with(t.name, ".attn_k.bias"))) {
      const bool is_q = t.name.find(".attn_q.") != std::string::npos;
      const int64_t n_head = is_q ? heads : heads_kv;
      const int64_t rows = t.dims.size() == 1 ? t.dims[0] : t.n_rows();
      if (rows % (2 * n_head))
        return err("%s: tensor %s has %lld rows, not a multiple of 2 x %lld heads", f.path.c_str(), t.name.c_str(),
                   (long long)rows, (long long)n_head);
      if (t.dims.size() == 1) {  // a bias: one value per row
        const GgufTensor* src = &t;
        const std::vector<int64_t> map = rope_permutation(rows, n_head);
        s.tensor = nullptr;
        s.compute = [src, map]() {
          std::vector<float> all(map.size()), out(map.size());
          ref_kernels().of(src->type).dequant(src->data, all.data(), int64_t(map.size()));
          for (size_t i = 0; i < map.size(); ++i) out[i] = all[size_t(map[i])];
          return out;
        };
      } else {
        s.row_map = rope_permutation(rows, n_head);
      }
    }
    sources.push_back(std::move(s));
  }
  return write_model(kv, 32, sources, in, out, recipe, n_threads, progress);
}

}  // namespace seek
