// Hugging Face folder -> in-memory GgufFile: config.json to GGUF metadata (the keys llama.cpp's
// convert_hf_to_gguf.py writes), tokenizer files to tokenizer.ggml.*, tensor names to GGUF names, with the
// tensors left where they are in the mapped shards.
#include "model/hf_folder.h"

#include <sys/stat.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <sstream>

#include "core/half.h"
#include "formats/json_checked.h"
#include "formats/safetensors.h"
#include "model/llama/llama.h"
#include "model/loader.h"
#include "tokenizer/vocab.h"

namespace seek {

namespace {

using json = nlohmann::json;

constexpr size_t kMaxConfigBytes = 16u << 20;

bool is_dir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_file(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<json> read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return err("%s: cannot open", path.c_str());
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  if (text.size() > kMaxConfigBytes) return err("%s: larger than %zu bytes", path.c_str(), kMaxConfigBytes);
  json j;
  SEEK_ASSIGN(j, parse_json_checked(text, path, "file"));
  if (!j.is_object()) return err("%s: not a JSON object", path.c_str());
  return j;
}

// Typed reads from config.json with one error per problem.
class Config {
 public:
  Config(const json& j, std::string path) : j_(j), path_(std::move(path)) {}

  Result<std::optional<int64_t>> int_opt(const char* key, int64_t lo, int64_t hi) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return std::optional<int64_t>{};
    if (!it->is_number_integer()) return err("%s: %s must be an integer", path_.c_str(), key);
    const int64_t v = it->get<int64_t>();
    if (v < lo || v > hi)
      return err("%s: %s = %lld is out of range [%lld, %lld]", path_.c_str(), key, (long long)v, (long long)lo,
                 (long long)hi);
    return std::optional<int64_t>(v);
  }
  Result<int64_t> int_req(const char* key, int64_t lo, int64_t hi) const {
    auto v = int_opt(key, lo, hi);
    if (!v) return v.error();
    if (!*v) return err("%s: %s is missing", path_.c_str(), key);
    return **v;
  }
  Result<std::optional<double>> num_opt(const json& obj, const char* key) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return std::optional<double>{};
    if (!it->is_number() || !std::isfinite(it->get<double>())) return err("%s: %s must be a number", path_.c_str(), key);
    return std::optional<double>(it->get<double>());
  }
  Result<std::optional<double>> num_opt(const char* key) const { return num_opt(j_, key); }
  std::string str(const char* key) const {
    auto it = j_.find(key);
    return it != j_.end() && it->is_string() ? it->get<std::string>() : "";
  }
  bool flag(const char* key, bool def) const {
    auto it = j_.find(key);
    return it != j_.end() && it->is_boolean() ? it->get<bool>() : def;
  }
  const json& j() const { return j_; }
  const std::string& path() const { return path_; }

 private:
  const json& j_;
  std::string path_;
};

constexpr int64_t kBig = int64_t(1) << 24;

// The rope scaling object: "rope_scaling" (older configs call its kind "type", newer "rope_type").
const json* rope_scaling(const json& j) {
  auto it = j.find("rope_scaling");
  if (it == j.end() || !it->is_object()) return nullptr;
  return &*it;
}

std::string rope_kind(const json& rs) {
  for (const char* k : {"rope_type", "type"}) {
    auto it = rs.find(k);
    if (it != rs.end() && it->is_string()) return it->get<std::string>();
  }
  return "";
}

// Keys every architecture shares (TextModel.set_gguf_parameters in llama.cpp's converter).
Result<void> common_keys(const Config& c, const std::string& a, GgufWriter& w, int64_t* n_layers) {
  SEEK_ASSIGN(*n_layers, c.int_req("num_hidden_layers", 1, 4096));
  int64_t v;
  SEEK_ASSIGN(v, c.int_req("max_position_embeddings", 1, kBig * 64));
  w.set_u32(a + ".context_length", uint32_t(v));
  SEEK_ASSIGN(v, c.int_req("hidden_size", 1, kBig));
  w.set_u32(a + ".embedding_length", uint32_t(v));
  SEEK_ASSIGN(v, c.int_req("intermediate_size", 1, kBig));
  w.set_u32(a + ".feed_forward_length", uint32_t(v));
  SEEK_ASSIGN(v, c.int_req("num_attention_heads", 1, 65536));
  w.set_u32(a + ".attention.head_count", uint32_t(v));
  std::optional<double> theta, eps;
  SEEK_ASSIGN(theta, c.num_opt("rope_theta"));
  if (theta) w.set_f32(a + ".rope.freq_base", float(*theta));
  SEEK_ASSIGN(eps, c.num_opt("rms_norm_eps"));
  w.set_f32(a + ".attention.layer_norm_rms_epsilon", float(eps.value_or(1e-6)));
  return {};
}

Result<void> deepseek_keys(const Config& c, GgufWriter& w, int64_t n_layers, int64_t n_mtp) {
  const std::string a = "deepseek2";
  w.set_u32(a + ".block_count", uint32_t(n_layers + n_mtp));
  if (n_mtp) w.set_u32(a + ".nextn_predict_layers", uint32_t(n_mtp));
  w.set_u32(a + ".attention.head_count_kv", 1);  // MLA is stored as MQA over the latent
  std::optional<int64_t> o;
  int64_t v, kv_lora, rope, nope, vhead;
  SEEK_ASSIGN(o, c.int_opt("n_routed_experts", 1, 65536));
  if (!o) return err("%s: n_routed_experts is missing (dense DeepSeek models are not supported)", c.path().c_str());
  w.set_u32(a + ".expert_count", uint32_t(*o));
  SEEK_ASSIGN(v, c.int_req("num_experts_per_tok", 1, 65536));
  w.set_u32(a + ".expert_used_count", uint32_t(v));
  SEEK_ASSIGN(o, c.int_opt("n_group", 1, 65536));
  if (o) w.set_u32(a + ".expert_group_count", uint32_t(*o));
  SEEK_ASSIGN(o, c.int_opt("topk_group", 1, 65536));
  if (o) w.set_u32(a + ".expert_group_used_count", uint32_t(*o));
  const std::string score = c.str("scoring_func");
  if (score == "sigmoid") w.set_u32(a + ".expert_gating_func", 2);
  else if (score == "softmax" || score.empty()) w.set_u32(a + ".expert_gating_func", 1);
  else return err("%s: scoring_func '%s' is not supported (sigmoid or softmax)", c.path().c_str(), score.c_str());
  SEEK_ASSIGN(o, c.int_opt("first_k_dense_replace", 0, n_layers));
  w.set_u32(a + ".leading_dense_block_count", uint32_t(o.value_or(0)));
  SEEK_ASSIGN(v, c.int_req("vocab_size", 1, int64_t(1) << 31));
  w.set_u32(a + ".vocab_size", uint32_t(v));
  SEEK_ASSIGN(o, c.int_opt("q_lora_rank", 1, kBig));
  if (o) w.set_u32(a + ".attention.q_lora_rank", uint32_t(*o));
  SEEK_ASSIGN(kv_lora, c.int_req("kv_lora_rank", 1, kBig));
  SEEK_ASSIGN(rope, c.int_req("qk_rope_head_dim", 2, kBig));
  SEEK_ASSIGN(nope, c.int_req("qk_nope_head_dim", 1, kBig));
  SEEK_ASSIGN(vhead, c.int_req("v_head_dim", 1, kBig));
  w.set_u32(a + ".attention.kv_lora_rank", uint32_t(kv_lora));
  w.set_u32(a + ".attention.key_length", uint32_t(kv_lora + rope));
  w.set_u32(a + ".attention.value_length", uint32_t(kv_lora));
  w.set_u32(a + ".attention.key_length_mla", uint32_t(nope + rope));
  w.set_u32(a + ".attention.value_length_mla", uint32_t(vhead));
  SEEK_ASSIGN(v, c.int_req("moe_intermediate_size", 1, kBig));
  w.set_u32(a + ".expert_feed_forward_length", uint32_t(v));
  SEEK_ASSIGN(o, c.int_opt("n_shared_experts", 0, 65536));
  w.set_u32(a + ".expert_shared_count", uint32_t(o.value_or(0)));
  std::optional<double> scale;
  SEEK_ASSIGN(scale, c.num_opt("routed_scaling_factor"));
  if (scale) w.set_f32(a + ".expert_weights_scale", float(*scale));
  if (c.flag("norm_topk_prob", false)) w.set_bool(a + ".expert_weights_norm", true);
  w.set_u32(a + ".rope.dimension_count", uint32_t(rope));
  if (const json* rs = rope_scaling(c.j())) {
    const std::string kind = rope_kind(*rs);
    if (kind == "yarn") {
      std::optional<double> factor, fast, slow, mall;
      std::optional<int64_t> orig;
      SEEK_ASSIGN(factor, c.num_opt(*rs, "factor"));
      if (!factor) return err("%s: rope_scaling.factor is missing", c.path().c_str());
      auto it = rs->find("original_max_position_embeddings");
      if (it == rs->end() || !it->is_number_integer() || it->get<int64_t>() < 1)
        return err("%s: rope_scaling.original_max_position_embeddings must be a positive integer", c.path().c_str());
      orig = it->get<int64_t>();
      w.set_str(a + ".rope.scaling.type", "yarn");
      w.set_f32(a + ".rope.scaling.factor", float(*factor));
      w.set_u32(a + ".rope.scaling.original_context_length", uint32_t(std::min<int64_t>(*orig, UINT32_MAX)));
      SEEK_ASSIGN(fast, c.num_opt(*rs, "beta_fast"));
      SEEK_ASSIGN(slow, c.num_opt(*rs, "beta_slow"));
      SEEK_ASSIGN(mall, c.num_opt(*rs, "mscale_all_dim"));
      if (fast) w.set_f32(a + ".rope.scaling.yarn_beta_fast", float(*fast));
      if (slow) w.set_f32(a + ".rope.scaling.yarn_beta_slow", float(*slow));
      if (mall) w.set_f32(a + ".rope.scaling.yarn_log_multiplier", float(0.1 * *mall));
    } else if (!kind.empty() && kind != "default") {
      return err("%s: rope_scaling type '%s' is not supported for DeepSeek (yarn)", c.path().c_str(), kind.c_str());
    }
  }
  return {};
}

// Llama-3 rotary frequency divisors (HF's "llama3" rope type), stored by llama.cpp's converter as rope_freqs.weight.
Result<std::vector<float>> llama3_factors_from(const Config& c, const json& rs, int64_t n_rot, double theta) {
  std::optional<double> factor, low, high;
  SEEK_ASSIGN(factor, c.num_opt(rs, "factor"));
  SEEK_ASSIGN(low, c.num_opt(rs, "low_freq_factor"));
  SEEK_ASSIGN(high, c.num_opt(rs, "high_freq_factor"));
  auto it = rs.find("original_max_position_embeddings");
  if (!factor || !low || !high || it == rs.end() || !it->is_number())
    return err("%s: rope_scaling (llama3) needs factor, low_freq_factor, high_freq_factor and "
               "original_max_position_embeddings", c.path().c_str());
  const double old_ctx = it->get<double>();
  if (*factor <= 0 || *high <= *low) return err("%s: rope_scaling (llama3) values are inconsistent", c.path().c_str());
  return llama3_rope_factors(theta, n_rot, *factor, *low, *high, old_ctx);
}

Result<void> llama_keys(const Config& c, const std::string& a, GgufWriter& w, int64_t n_layers,
                        std::vector<float>* rope_freqs) {
  w.set_u32(a + ".block_count", uint32_t(n_layers));
  int64_t heads, dim;
  std::optional<int64_t> kv, head_dim;
  SEEK_ASSIGN(heads, c.int_req("num_attention_heads", 1, 65536));
  SEEK_ASSIGN(dim, c.int_req("hidden_size", 1, kBig));
  SEEK_ASSIGN(kv, c.int_opt("num_key_value_heads", 1, 65536));
  w.set_u32(a + ".attention.head_count_kv", uint32_t(kv.value_or(heads)));
  SEEK_ASSIGN(head_dim, c.int_opt("head_dim", 1, kBig));
  const int64_t hd = head_dim.value_or(dim / heads);
  if (head_dim) {
    w.set_u32(a + ".attention.key_length", uint32_t(hd));
    w.set_u32(a + ".attention.value_length", uint32_t(hd));
  }
  if (a == "llama") {
    int64_t v;
    SEEK_ASSIGN(v, c.int_req("vocab_size", 1, int64_t(1) << 31));
    w.set_u32(a + ".vocab_size", uint32_t(v));
    w.set_u32(a + ".rope.dimension_count", uint32_t(hd));
    w.set_bool(kHfRopeNeoxKey, true);
  }
  if (const json* rs = rope_scaling(c.j())) {
    const std::string kind = rope_kind(*rs);
    if (kind == "llama3") {
      std::optional<double> theta;
      SEEK_ASSIGN(theta, c.num_opt("rope_theta"));
      SEEK_ASSIGN(*rope_freqs, llama3_factors_from(c, *rs, hd, theta.value_or(10000.0)));
    } else if (kind == "linear") {
      std::optional<double> factor;
      SEEK_ASSIGN(factor, c.num_opt(*rs, "factor"));
      if (!factor || *factor <= 0) return err("%s: rope_scaling.factor must be positive", c.path().c_str());
      w.set_str(a + ".rope.scaling.type", "linear");
      w.set_f32(a + ".rope.scaling.factor", float(*factor));
    } else if (!kind.empty() && kind != "default") {
      return err("%s: rope_scaling type '%s' is not supported for %s", c.path().c_str(), kind.c_str(), a.c_str());
    }
  }
  return {};
}

// ---- tensors ----

// HF name -> GGUF name for one architecture; nullopt for names that are not weights of the model (skipped) and an
// error for names nobody knows.
struct NameMap {
  std::string arch;
  int64_t n_layers = 0, n_mtp = 0;
};

const std::map<std::string, std::string>& layer_names() {
  static const std::map<std::string, std::string> m{
      {"input_layernorm.weight", "attn_norm.weight"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.q_proj.bias", "attn_q.bias"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.k_proj.bias", "attn_k.bias"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.v_proj.bias", "attn_v.bias"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"self_attn.o_proj.bias", "attn_output.bias"},
      {"self_attn.q_a_proj.weight", "attn_q_a.weight"},
      {"self_attn.q_a_layernorm.weight", "attn_q_a_norm.weight"},
      {"self_attn.q_b_proj.weight", "attn_q_b.weight"},
      {"self_attn.kv_a_proj_with_mqa.weight", "attn_kv_a_mqa.weight"},
      {"self_attn.kv_a_layernorm.weight", "attn_kv_a_norm.weight"},
      {"self_attn.kv_b_proj.weight", "attn_kv_b.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"},
      {"mlp.gate.weight", "ffn_gate_inp.weight"},
      {"mlp.gate.e_score_correction_bias", "exp_probs_b.bias"},
      {"mlp.shared_experts.gate_proj.weight", "ffn_gate_shexp.weight"},
      {"mlp.shared_experts.up_proj.weight", "ffn_up_shexp.weight"},
      {"mlp.shared_experts.down_proj.weight", "ffn_down_shexp.weight"},
      // DeepSeek-V3's multi-token-prediction layer (llama.cpp's nextn tensors).
      {"embed_tokens.weight", "nextn.embed_tokens.weight"},
      {"enorm.weight", "nextn.enorm.weight"},
      {"hnorm.weight", "nextn.hnorm.weight"},
      {"eh_proj.weight", "nextn.eh_proj.weight"},
      {"shared_head.norm.weight", "nextn.shared_head_norm.weight"},
      {"shared_head.head.weight", "nextn.shared_head_head.weight"},
  };
  return m;
}

struct Mapped {
  std::string name;      // GGUF name; for experts the stacked tensor's name
  int64_t expert = -1;   // part index for per-expert tensors
  bool skip = false;
};

Result<Mapped> map_name(const NameMap& nm, const std::string& hf, const std::string& dir) {
  if (hf == "model.embed_tokens.weight") return Mapped{"token_embd.weight"};
  if (hf == "model.norm.weight") return Mapped{"output_norm.weight"};
  if (hf == "lm_head.weight") return Mapped{"output.weight"};
  static const std::regex layer(R"(model\.layers\.(\d{1,6})\.(.+))");
  static const std::regex expert(R"(mlp\.experts\.(\d{1,6})\.(gate|up|down)_proj\.weight)");
  std::smatch m;
  if (!std::regex_match(hf, m, layer)) return err("%s: tensor %s has a name seek does not know", dir.c_str(), hf.c_str());
  const int64_t il = std::stoll(m[1].str());
  const std::string rest = m[2].str();
  if (rest.find("rotary_emb.inv_freq") != std::string::npos) return Mapped{"", -1, true};
  if (il >= nm.n_layers + nm.n_mtp)
    return err("%s: tensor %s belongs to layer %lld, but config.json has %lld layers", dir.c_str(), hf.c_str(),
               (long long)il, (long long)(nm.n_layers + nm.n_mtp));
  const std::string p = "blk." + std::to_string(il) + ".";
  std::smatch e;
  if (std::regex_match(rest, e, expert))
    return Mapped{p + "ffn_" + e[2].str() + "_exps.weight", std::stoll(e[1].str())};
  auto it = layer_names().find(rest);
  if (it == layer_names().end() || (it->second.rfind("nextn.", 0) == 0 && il < nm.n_layers))
    return err("%s: tensor %s has a name seek does not know", dir.c_str(), hf.c_str());
  return Mapped{p + it->second};
}

std::optional<GgmlType> dtype_type(const std::string& d) {
  if (d == "F32") return GgmlType::F32;
  if (d == "F16") return GgmlType::F16;
  if (d == "BF16") return GgmlType::BF16;
  if (d == "F8_E4M3") return GgmlType::F8_E4M3;
  return std::nullopt;
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

// Owns buffers (aligned copies, scales) that tensors point into.
struct Owned {
  std::vector<std::vector<float>> floats;
  std::vector<std::vector<uint8_t>> bytes;
};

// A tensor's data, copied when the shard leaves it misaligned for its element type (safetensors does not align).
const uint8_t* aligned_data(const SafetensorsTensor& t, size_t elem, Owned& own) {
  if (reinterpret_cast<uintptr_t>(t.data) % elem == 0) return t.data;
  own.bytes.emplace_back(t.data, t.data + (t.end - t.begin));
  return own.bytes.back().data();
}

// weight_scale_inv of an FP8 matrix of (rows, cols): f32 [ceil(rows/128), ceil(cols/128)], copied (small, and
// aligned for the kernels).
Result<const float*> block_scales(const SafetensorsSet& st, const std::string& hf, int64_t rows, int64_t cols,
                                  Owned& own, const std::string& dir) {
  const std::string sname = hf.substr(0, hf.size() - std::strlen(".weight")) + ".weight_scale_inv";
  const SafetensorsTensor* s = st.find(sname);
  if (!s) return err("%s: FP8 tensor %s has no %s", dir.c_str(), hf.c_str(), sname.c_str());
  const std::vector<int64_t> want{(rows + 127) / 128, (cols + 127) / 128};
  if (s->shape != want)
    return err("%s: tensor %s has shape %s, expected %s for 128x128 blocks of %s", dir.c_str(), sname.c_str(),
               shape_str(s->shape).c_str(), shape_str(want).c_str(), hf.c_str());
  const size_t n = size_t(want[0] * want[1]);
  std::vector<float> f(n);
  if (s->dtype == "F32") {
    std::memcpy(f.data(), s->data, n * 4);
  } else if (s->dtype == "BF16") {
    for (size_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, s->data + 2 * i, 2);
      f[i] = bf16_to_f32(h);
    }
  } else {
    return err("%s: tensor %s has dtype %s, expected F32 or BF16", dir.c_str(), sname.c_str(), s->dtype.c_str());
  }
  for (float x : f)
    if (!std::isfinite(x)) return err("%s: tensor %s holds a scale that is not finite", dir.c_str(), sname.c_str());
  own.floats.push_back(std::move(f));
  return static_cast<const float*>(own.floats.back().data());
}

struct ExpertGroup {
  std::vector<const SafetensorsTensor*> parts;
  std::vector<std::string> hf_names;
};

Result<void> add_tensors(const SafetensorsSet& st, const NameMap& nm, bool tied, const std::string& dir,
                         GgufFile& f, Owned& own) {
  std::map<std::string, ExpertGroup> experts;
  for (const SafetensorsTensor* t : st.all()) {
    const std::string& hf = t->name;
    if (hf.size() > 16 && hf.compare(hf.size() - 16, 16, "weight_scale_inv") == 0) continue;  // with its matrix
    Mapped m;
    SEEK_ASSIGN(m, map_name(nm, hf, dir));
    if (m.skip || (tied && m.name == "output.weight")) continue;
    auto type = dtype_type(t->dtype);
    if (!type) return err("%s: tensor %s has dtype %s, which seek cannot compute with", dir.c_str(), hf.c_str(), t->dtype.c_str());
    if (t->shape.empty() || t->shape.size() > 2)
      return err("%s: tensor %s has shape %s, expected 1 or 2 dimensions", dir.c_str(), hf.c_str(), shape_str(t->shape).c_str());
    if (*type == GgmlType::F8_E4M3 && t->shape.size() != 2)
      return err("%s: FP8 tensor %s must be a matrix", dir.c_str(), hf.c_str());
    if (m.expert >= 0) {
      ExpertGroup& g = experts[m.name];
      if (int64_t(g.parts.size()) <= m.expert) {
        g.parts.resize(size_t(m.expert + 1));
        g.hf_names.resize(size_t(m.expert + 1));
      }
      g.parts[size_t(m.expert)] = t;
      g.hf_names[size_t(m.expert)] = hf;
      continue;
    }
    GgufTensor g;
    g.name = m.name;
    g.type = *type;
    g.dims.assign(t->shape.rbegin(), t->shape.rend());
    g.nbytes = t->end - t->begin;
    g.data = aligned_data(*t, traits(*type).block_bytes, own);
    if (*type == GgmlType::F8_E4M3) SEEK_ASSIGN(g.scales, block_scales(st, hf, t->shape[0], t->shape[1], own, dir));
    f.tensors.push_back(std::move(g));
  }
  for (auto& [name, g] : experts) {
    const SafetensorsTensor* first = g.parts.empty() ? nullptr : g.parts[0];
    for (size_t e = 0; e < g.parts.size(); ++e) {
      const SafetensorsTensor* t = g.parts[e];
      if (!t) return err("%s: expert %zu of %s is missing", dir.c_str(), e, name.c_str());
      if (t->shape != first->shape || t->dtype != first->dtype || t->shape.size() != 2)
        return err("%s: tensor %s has dtype %s shape %s, unlike expert 0 (%s %s)", dir.c_str(), g.hf_names[e].c_str(),
                   t->dtype.c_str(), shape_str(t->shape).c_str(), first->dtype.c_str(), shape_str(first->shape).c_str());
    }
    GgufTensor s;
    s.name = name;
    s.type = *dtype_type(first->dtype);
    s.dims = {first->shape[1], first->shape[0], int64_t(g.parts.size())};
    s.part_rows = first->shape[0];
    for (size_t e = 0; e < g.parts.size(); ++e) {
      const SafetensorsTensor* t = g.parts[e];
      s.parts.push_back(aligned_data(*t, traits(s.type).block_bytes, own));
      s.nbytes += t->end - t->begin;
      if (s.type == GgmlType::F8_E4M3) {
        const float* sc;
        SEEK_ASSIGN(sc, block_scales(st, g.hf_names[e], t->shape[0], t->shape[1], own, dir));
        s.part_scales.push_back(sc);
      }
    }
    f.tensors.push_back(std::move(s));
  }
  return {};
}

}  // namespace

bool is_hf_folder(const std::string& path) { return is_dir(path) && is_file(path + "/config.json"); }

Result<GgufFile> hf_folder_open(const std::string& dir_in) {
  std::string dir = dir_in;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (!is_dir(dir)) return err("%s: not a folder", dir.c_str());
  json cj;
  SEEK_ASSIGN(cj, read_json(dir + "/config.json"));
  const Config c(cj, dir + "/config.json");
  std::string hf_arch;
  if (auto it = cj.find("architectures"); it != cj.end() && it->is_array() && !it->empty() && (*it)[0].is_string())
    hf_arch = (*it)[0].get<std::string>();
  std::string arch;
  if (hf_arch == "DeepseekV3ForCausalLM" || hf_arch == "DeepseekV2ForCausalLM") arch = "deepseek2";
  else if (hf_arch == "Qwen2ForCausalLM") arch = "qwen2";
  else if (hf_arch == "LlamaForCausalLM") arch = "llama";
  else
    return err("%s: architecture '%s' is not supported (DeepseekV3ForCausalLM, DeepseekV2ForCausalLM, "
               "Qwen2ForCausalLM, LlamaForCausalLM)", c.path().c_str(), hf_arch.c_str());
  if (auto it = cj.find("quantization_config"); it != cj.end() && it->is_object()) {
    const json& q = *it;
    const std::string method = q.value("quant_method", "");
    if (method != "fp8") return err("%s: quantization_config.quant_method '%s' is not supported (fp8)", c.path().c_str(), method.c_str());
    auto bs = q.find("weight_block_size");
    if (bs == q.end() || *bs != json::array({128, 128}))
      return err("%s: quantization_config.weight_block_size must be [128, 128]", c.path().c_str());
    if (q.value("fmt", "e4m3") != "e4m3") return err("%s: quantization_config.fmt must be e4m3", c.path().c_str());
  }

  SafetensorsSet st;
  SEEK_ASSIGN(st, safetensors_open_dir(dir));

  GgufFile f;
  f.path = dir;
  f.version = 3;
  GgufWriter w;
  w.set_str("general.architecture", arch);
  const std::string base = dir.substr(dir.find_last_of('/') + 1);
  w.set_str("general.name", base);
  int64_t n_layers = 0, n_mtp = 0;
  SEEK_TRY(common_keys(c, arch, w, &n_layers));
  std::vector<float> rope_freqs;
  if (arch == "deepseek2") {
    std::optional<int64_t> mtp;
    SEEK_ASSIGN(mtp, c.int_opt("num_nextn_predict_layers", 0, 16));
    // The MTP layer is kept when the folder has it (official V3/R1 weights do; many re-uploads drop it).
    if (mtp && *mtp > 0 && st.find("model.layers." + std::to_string(n_layers) + ".eh_proj.weight")) n_mtp = *mtp;
    SEEK_TRY(deepseek_keys(c, w, n_layers, n_mtp));
  } else {
    SEEK_TRY(llama_keys(c, arch, w, n_layers, &rope_freqs));
  }
  // The tokenizer: tokenizer.json (+ tokenizer_config.json for the chat template and special tokens), padded to the
  // embedding's rows as llama.cpp's converter pads it.
  const std::string tj = dir + "/tokenizer.json", tc = dir + "/tokenizer_config.json";
  if (is_file(tj)) {
    Vocab v;
    SEEK_ASSIGN(v, vocab_from_hf_json(tj, is_file(tc) ? tc : ""));
    std::optional<int64_t> vs;
    SEEK_ASSIGN(vs, c.int_opt("vocab_size", 1, int64_t(1) << 31));
    if (vs && int64_t(v.tokens.size()) < *vs) {
      if (v.token_types.empty()) v.token_types.assign(v.tokens.size(), kTokenNormal);
      for (int64_t i = int64_t(v.tokens.size()); i < *vs; ++i) {
        v.tokens.push_back("[PAD" + std::to_string(i) + "]");
        v.token_types.push_back(kTokenUnused);
      }
    }
    vocab_to_gguf(v, w);
  }
  f.kv = w.metadata();

  const NameMap nm{arch, n_layers, n_mtp};
  auto own = std::make_shared<Owned>();
  SEEK_TRY(add_tensors(st, nm, c.flag("tie_word_embeddings", false), dir, f, *own));
  if (!rope_freqs.empty()) {
    own->floats.push_back(rope_freqs);
    GgufTensor t;
    t.name = "rope_freqs.weight";
    t.type = GgmlType::F32;
    t.dims = {int64_t(rope_freqs.size())};
    t.nbytes = rope_freqs.size() * 4;
    t.data = reinterpret_cast<const uint8_t*>(own->floats.back().data());
    f.tensors.push_back(t);
  }
  f.keep_alive.push_back(own);
  for (const SafetensorsFile& s : st.shards) f.keep_alive.push_back(s.mapping);
  SEEK_TRY(f.build_index());
  return f;
}

}  // namespace seek
