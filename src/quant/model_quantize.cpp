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
void copy_metadata(const std::vector<std::pair<std::string, GgufValue>>& kv, uint32_t alignment,
                   const QuantRecipe& recipe, GgufWriter& w) {
  for (const auto& [key, value] : kv) {
    if (key == "general.quantization_version" || key == "general.file_type" || key.rfind("split.", 0) == 0) continue;
    w.set(key, value);
  }
  w.set_u32("general.quantization_version", kQuantizationVersion);
  w.set_u32("general.file_type", recipe.file_type);
  w.set_alignment(alignment);
}

int64_t n_rows(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (size_t i = 1; i < dims.size(); ++i) n *= dims[i];
  return dims.empty() || dims[0] == 0 ? 0 : n;
}

// Row r of a source tensor as f32.
void source_row(const SourceTensor& s, const float* computed, int64_t r, float* out) {
  const int64_t ne0 = s.dims[0];
  if (computed) {
    std::memcpy(out, computed + size_t(r) * size_t(ne0), size_t(ne0) * 4);
    return;
  }
  dequant_tensor_row(*s.tensor, s.row_map.empty() ? r : s.row_map[size_t(r)], out);
}

// Converts rows [r0, r1) of `s` to `to` into dst (laid out as the whole output tensor).
void convert_rows(const SourceTensor& s, const float* computed, GgmlType to, int64_t r0, int64_t r1, uint8_t* dst) {
  const int64_t ne0 = s.dims[0];
  const size_t out_row = row_bytes(to, ne0);
  if (!computed && s.tensor->type == to) {  // same type: the stored bytes, row by row (parts, row maps)
    for (int64_t r = r0; r < r1; ++r)
      std::memcpy(dst + size_t(r) * out_row, s.tensor->row_data(s.row_map.empty() ? r : s.row_map[size_t(r)]), out_row);
    return;
  }
  const QuantizeRowFn quantize = quantizer(to);
  std::vector<float> row(static_cast<size_t>(ne0));
  for (int64_t r = r0; r < r1; ++r) {
    source_row(s, computed, r, row.data());
    quantize(row.data(), dst + size_t(r) * out_row, ne0);
  }
}

GgmlType source_type(const SourceTensor& s) { return s.tensor ? s.tensor->type : GgmlType::F32; }

}  // namespace

void dequant_tensor_row(const GgufTensor& t, int64_t r, float* out) {
  if (t.type == GgmlType::F8_E4M3) ref_kernels().dequant_f8_e4m3(t.row_data(r), t.row_scales(r), out, t.ne(0));
  else ref_kernels().of(t.type).dequant(t.row_data(r), out, t.ne(0));
}

Result<QuantizeSummary> write_model(const std::vector<std::pair<std::string, GgufValue>>& kv, uint32_t alignment,
                                    const std::vector<SourceTensor>& sources, const std::string& source_path,
                                    const std::string& out, const QuantRecipe& recipe, int n_threads,
                                    const ProgressFn& progress) {
  GgufFile meta;  // the metadata as a file, for the recipe's model facts
  meta.path = source_path;
  meta.kv = kv;
  if (auto r = meta.build_index(); !r) return r.error();
  auto model = recipe_model(meta);
  if (!model) return model.error();

  std::vector<TensorDesc> descs;
  for (const SourceTensor& t : sources) descs.push_back({t.name, t.dims, t.recipe_type});
  const std::vector<TypeChoice> choices = choose_types(recipe, descs, *model);

  // llama.cpp writes tensors ordered by block, then name.
  std::vector<size_t> order(sources.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return llama_tensor_order(sources[a].name, sources[b].name); });

  QuantizeSummary s;
  for (size_t k : order) {
    const SourceTensor& t = sources[k];
    const TypeChoice& c = choices[k];
    const GgmlType from = source_type(t);
    const bool convert = c.type != from || t.compute;
    if (t.tensor && convert && iq_grids_missing(from))
      return err("%s: tensor %s has type %s, but %s", source_path.c_str(), t.name.c_str(),
                 std::string(traits(from).name).c_str(), kNoIqGridsMessage);
    if (t.tensor && from != GgmlType::F8_E4M3 && !ref_kernels().of(from).dequant)
      return err("%s: tensor %s has type %s, which seek cannot read", source_path.c_str(), t.name.c_str(),
                 std::string(traits(from).name).c_str());
    if (convert && !quantizer(c.type))
      return err("%s: tensor %s needs type %s, which seek cannot write", source_path.c_str(), t.name.c_str(),
                 std::string(traits(c.type).name).c_str());
    if (t.dims.empty() || t.dims[0] % traits(c.type).block_size != 0)
      return err("%s: tensor %s: rows of %lld values do not fit type %s", source_path.c_str(), t.name.c_str(),
                 (long long)(t.dims.empty() ? 0 : t.dims[0]), std::string(traits(c.type).name).c_str());
    const uint64_t bytes_in = t.tensor ? t.tensor->nbytes : uint64_t(n_rows(t.dims)) * row_bytes(GgmlType::F32, t.dims[0]);
    const uint64_t bytes_out = uint64_t(n_rows(t.dims)) * row_bytes(c.type, t.dims[0]);
    s.tensors.push_back({t.name, from, c.type, c.fallback, c.wanted, bytes_in, bytes_out});
    s.bytes_in += bytes_in;
    s.bytes_out += bytes_out;
    int64_t n_el = 1;
    for (int64_t d : t.dims) n_el *= d;
    s.n_elements += n_el;
    s.n_converted += convert;
    s.n_fallback += c.fallback;
    s.n_requantised += convert && traits(from).block_size > 1;
  }

  GgufWriter w;
  copy_metadata(kv, alignment, recipe, w);
  ThreadPool pool(std::max(1, n_threads));
  for (size_t k : order) {
    const SourceTensor& t = sources[k];
    const GgmlType to = choices[k].type;
    w.add_tensor(t.name, to, t.dims, [&t, to, &pool](uint8_t* dst, size_t) {
      std::vector<float> computed;
      if (t.compute) computed = t.compute();
      const float* cp = t.compute ? computed.data() : nullptr;
      pool.run([&](int ti, int nt) {
        int64_t r0, r1;
        ThreadPool::split(n_rows(t.dims), ti, nt, 1, &r0, &r1);
        convert_rows(t, cp, to, r0, r1, dst);
      });
    });
  }
  if (auto r = w.write(out, progress); !r) return r.error();
  return s;
}

Result<QuantizeSummary> quantize_model(const std::string& in, const std::string& out, const QuantRecipe& recipe,
                                       int n_threads, const ProgressFn& progress) {
  auto file = gguf_open(in);
  if (!file) return file.error();
  std::vector<SourceTensor> sources;
  for (const GgufTensor& t : file->tensors) sources.push_back({t.name, t.dims, t.type, &t, {}, {}});
  return write_model(file->kv, uint32_t(file->alignment), sources, in, out, recipe, n_threads, progress);
}

}  // namespace seek
