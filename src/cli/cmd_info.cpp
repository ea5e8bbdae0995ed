// seek info: what a model file holds: architecture, hyper-parameters, tensor types and bytes, KV-cache bytes
// per token. --json gives the same as one object.
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "formats/gguf.h"
#include "model/hf_folder.h"
#include "model/model.h"
#include "model/deepseek/config.h"

namespace seek::cli {

namespace {

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) b /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.2f %s" : "%.0f %s", b, units[u]);
  return buf;
}

}  // namespace

int cmd_info(int argc, char** argv) {
  Args a("info", {"-m", "--model"}, {"--json", "--tensors", "--help", "-h"});
  if (auto r = a.parse(argc, argv); !r) return usage_error("info", r.error().message);
  if (a.has("--help") || a.has("-h")) {
    std::puts("usage: seek info MODEL [--json] [--tensors]");
    return 0;
  }
  std::string path = a.positional().empty() ? (a.str("-m") ? *a.str("-m") : a.str("--model").value_or(default_model_path()))
                                            : a.positional()[0];
  auto f = open_model_file(path);
  if (!f) return fail("info", f.error().message);

  nlohmann::json j;
  j["path"] = path;
  j["gguf_version"] = f->version;
  auto arch = f->get_string("general.architecture");
  j["architecture"] = arch && arch->has_value() ? **arch : "";
  auto name = f->get_string("general.name");
  if (name && name->has_value()) j["name"] = **name;

  std::map<std::string, std::pair<int64_t, uint64_t>> by_type;  // type -> (tensors, bytes)
  uint64_t total_bytes = 0;
  int64_t total_params = 0;
  for (const GgufTensor& t : f->tensors) {
    auto& e = by_type[std::string(traits(t.type).name)];
    e.first++;
    e.second += t.nbytes;
    total_bytes += t.nbytes;
    total_params += t.n_elements();
  }
  j["tensors"] = f->tensors.size();
  j["parameters"] = total_params;
  j["tensor_bytes"] = total_bytes;
  for (auto& [t, e] : by_type) j["types"][t] = {{"tensors", e.first}, {"bytes", e.second}};

  if (j["architecture"] == "deepseek2") {
    auto c = deepseek_config_from_gguf(*f);
    if (!c) return fail("info", c.error().message);
    j["hparams"] = {{"dim", c->dim}, {"n_layers", c->n_layers}, {"n_mtp_layers", c->n_mtp_layers},
                    {"n_heads", c->n_heads}, {"q_lora_rank", c->q_lora_rank}, {"kv_lora_rank", c->kv_lora_rank},
                    {"qk_nope_head_dim", c->qk_nope_head_dim}, {"qk_rope_head_dim", c->qk_rope_head_dim},
                    {"v_head_dim", c->v_head_dim}, {"n_dense_layers", c->n_dense_layers},
                    {"inter_dim", c->inter_dim}, {"moe_inter_dim", c->moe_inter_dim},
                    {"n_routed_experts", c->n_routed_experts}, {"n_activated_experts", c->n_activated_experts},
                    {"n_shared_experts", c->n_shared_experts}, {"n_expert_groups", c->n_expert_groups},
                    {"n_limited_groups", c->n_limited_groups},
                    {"score_func", c->score_func == ScoreFunc::Sigmoid ? "sigmoid" : "softmax"},
                    {"route_scale", c->route_scale}, {"norm_topk_prob", c->norm_topk_prob},
                    {"context_length", c->max_seq_len}, {"rope_theta", c->rope_theta},
                    {"yarn_factor", c->rope_factor}, {"yarn_original_context", c->original_seq_len},
                    {"mscale_all_dim", c->mscale_all_dim}, {"vocab_size", c->vocab_size}};
    j["mla_layout"] = f->tensor("blk.0.attn_kv_b.weight") ? "kv_b" : "k_b+v_b";
    // The MLA cache keeps c_kv and k_rope per layer per token, as f32.
    j["kv_cache"] = {{"values_per_token_per_layer", c->cache_width()},
                     {"bytes_per_token", c->n_layers * c->cache_width() * 4}, {"dtype", "f32"}};
  }

  if (a.has("--json")) {
    std::puts(j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  if (is_hf_folder(path))
    std::printf("file:          %s (Hugging Face folder, %zu safetensors file%s)\n", path.c_str(),
                f->keep_alive.size() - 1, f->keep_alive.size() == 2 ? "" : "s");
  else
    std::printf("file:          %s (GGUF v%u)\n", path.c_str(), f->version);
  std::printf("architecture:  %s\n", j["architecture"].get<std::string>().c_str());
  if (j.contains("name")) std::printf("name:          %s\n", j["name"].get<std::string>().c_str());
  std::printf("parameters:    %lld (%s of tensor data in %zu tensors)\n", (long long)total_params,
              human_bytes(double(total_bytes)).c_str(), f->tensors.size());
  for (auto& [t, e] : by_type)
    std::printf("  %-8s %5lld tensors  %s\n", t.c_str(), (long long)e.first, human_bytes(double(e.second)).c_str());
  if (j.contains("hparams")) {
    std::printf("hyper-parameters:\n");
    for (auto& [k, v] : j["hparams"].items()) std::printf("  %-22s %s\n", k.c_str(), v.dump().c_str());
    std::printf("MLA layout:    %s\n", j["mla_layout"].get<std::string>().c_str());
    std::printf("KV cache:      %lld values per layer per token (kv_lora_rank + qk_rope_head_dim), %s per token (f32)\n",
                (long long)j["kv_cache"]["values_per_token_per_layer"].get<int64_t>(),
                human_bytes(double(j["kv_cache"]["bytes_per_token"].get<int64_t>())).c_str());
  }
  if (a.has("--tensors"))
    for (const GgufTensor& t : f->tensors) {
      std::string dims;
      for (size_t i = 0; i < t.dims.size(); ++i) dims += (i ? " x " : "") + std::to_string(t.dims[i]);
      std::printf("  %-40s %-8s %-24s %s\n", t.name.c_str(), std::string(traits(t.type).name).c_str(), dims.c_str(),
                  human_bytes(double(t.nbytes)).c_str());
    }
  return 0;
}

}  // namespace seek::cli
