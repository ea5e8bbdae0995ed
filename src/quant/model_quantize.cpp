// Whole-file quantisation: plan the types, check every conversion is possible before writing anything, then
// stream the tensors through GgufWriter, each converted by the thread pool in row ranges.
#include "quant/model_quantize.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "core/thread_pool.h"
#include "formats/gguf.h"
#include "kernels/kernels.h"
#include "quant/quantize.h"

namespace seek {

namespace {

constexpr uint32_t kQuantizationVersion = 2;  // ggml's GGML_QNT_VERSION

// The model facts the recipe needs, from {arch}.block_count and {arch}.expert_count.
Result<RecipeModel> recipe_model(const GgufFile& f) {
  RecipeModel m;
  auto arch = f.get_string("general.architecture");
  if (!arch) return arch.error();
  if (!*arch) return m;
  auto n_layer = f.get_int(**arch + ".block_count");
  if (!n_layer) return n_layer.error();
  auto n_expert = f.get_int(**arch + ".expert_count");
  if (!n_expert) return n_expert.error();
  m.n_layer = n_layer->value_or(0);
  m.n_expert = n_expert->value_or(0) > 1 ? **n_expert : 0;
  return m;
}

// Metadata as llama-quantize leaves it: every key in order except the split keys, then the quantisation version
// and the file type (gguf_set_val_* removes a key and appends it).
void copy_metadata(const GgufFile& f, const QuantRecipe& recipe, GgufWriter& w) {
  for (const auto& [key, value] : f.kv) {
    if (key == "general.quantization_version" || key == "general.file_type" || key.rfind("split.", 0) == 0) continue;
    w.set(key, value);
  }
  w.set_u32("general.quantization_version", kQuantizationVersion);
  w.set_u32("general.file_type", recipe.file_type);
  w.set_alignment(uint32_t(f.alignment));
}

int64_t n_rows(const GgufTensor& t) { return t.ne(0) > 0 ? t.n_elements() / t.ne(0) : 0; }

// Converts rows [r0, r1) of `t` to `to`: dequantise each row to f32, quantise it into dst.
void convert_rows(const GgufTensor& t, GgmlType to, int64_t r0, int64_t r1, uint8_t* dst) {
  const int64_t ne0 = t.ne(0);
  const size_t in_row = row_bytes(t.type, ne0), out_row = row_bytes(to, ne0);
  const DequantRowFn dequant = ref_kernels().of(t.type).dequant;
  const QuantizeRowFn quantize = quantizer(to);
  std::vector<float> row(static_cast<size_t>(ne0));
  for (int64_t r = r0; r < r1; ++r) {
    dequant(t.data + size_t(r) * in_row, row.data(), ne0);
    quantize(row.data(), dst + size_t(r) * out_row, ne0);
  }
}

}  // namespace

Result<QuantizeSummary> quantize_model(const std::string& in, const std::string& out, const QuantRecipe& recipe,
                                       int n_threads, const std::function<void(uint64_t, uint64_t)>& progress) {
  auto file = gguf_open(in);
  if (!file) return file.error();
  const GgufFile& f = *file;
  auto model = recipe_model(f);
  if (!model) return model.error();

  std::vector<TensorDesc> descs;
  for (const GgufTensor& t : f.tensors) descs.push_back({t.name, t.dims, t.type});
  const std::vector<TypeChoice> choices = choose_types(recipe, descs, *model);

  // llama.cpp writes tensors ordered by block, then name.
  std::vector<size_t> order(f.tensors.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return llama_tensor_order(f.tensors[a].name, f.tensors[b].name); });

  QuantizeSummary s;
  for (size_t k : order) {
    const GgufTensor& t = f.tensors[k];
    const TypeChoice& c = choices[k];
    const bool convert = c.type != t.type;
    if (convert && iq_grids_missing(t.type))
      return err("%s: tensor %s has type %s, but %s", in.c_str(), t.name.c_str(),
                 std::string(traits(t.type).name).c_str(), kNoIqGridsMessage);
    if (convert && !ref_kernels().of(t.type).dequant)
      return err("%s: tensor %s has type %s, which seek cannot read", in.c_str(), t.name.c_str(),
                 std::string(traits(t.type).name).c_str());
    if (convert && !quantizer(c.type))
      return err("%s: tensor %s needs type %s, which seek cannot write", in.c_str(), t.name.c_str(),
                 std::string(traits(c.type).name).c_str());
    const uint64_t bytes_out = uint64_t(n_rows(t)) * row_bytes(c.type, t.ne(0));
    s.tensors.push_back({t.name, t.type, c.type, c.fallback, c.wanted, t.nbytes, bytes_out});
    s.bytes_in += t.nbytes;
    s.bytes_out += bytes_out;
    s.n_elements += t.n_elements();
    s.n_converted += convert;
    s.n_fallback += c.fallback;
    s.n_requantised += convert && traits(t.type).block_size > 1;
  }

  GgufWriter w;
  copy_metadata(f, recipe, w);
  ThreadPool pool(std::max(1, n_threads));
  for (size_t k : order) {
    const GgufTensor& t = f.tensors[k];
    const GgmlType to = choices[k].type;
    w.add_tensor(t.name, to, t.dims, [&t, to, &pool](uint8_t* dst, size_t nbytes) {
      if (to == t.type) {
        std::memcpy(dst, t.data, nbytes);
        return;
      }
      pool.run([&](int ti, int nt) {
        int64_t r0, r1;
        ThreadPool::split(n_rows(t), ti, nt, 1, &r0, &r1);
        convert_rows(t, to, r0, r1, dst);
      });
    });
  }
  if (auto r = w.write(out, progress); !r) return r.error();
  return s;
}

}  // namespace seek
