// Architecture dispatch: reads general.architecture and builds the matching model.
#include "model/model.h"

#include "formats/gguf.h"
#include "model/deepseek/deepseek.h"
#include "model/hf_folder.h"
#include "model/llama/llama.h"

namespace seek {

Result<std::unique_ptr<Model>> load_model_from_gguf(std::shared_ptr<GgufFile> file) {
  auto arch = file->get_string("general.architecture");
  if (!arch) return arch.error();
  if (!arch->has_value()) return err("%s: metadata key general.architecture is missing", file->path.c_str());
  // The token embeddings are read a row per token, at random: left to fault in page by page, a fresh server's first
  // steps spent ~2% of a 16-sequence decode step there (one fault per new token). Mapped at once instead, like the
  // rest of the weights that repacking reads in whole.
  if (const GgufTensor* t = file->tensor("token_embd.weight"); t && t->data && file->mapping)
    file->mapping->populate(t->data, size_t(t->nbytes));
  if (**arch == "deepseek2") return load_deepseek(std::move(file));
  if (**arch == "llama" || **arch == "qwen2") return load_llama(std::move(file));
  return err("%s: architecture '%s' is not supported (supported: deepseek2, qwen2, llama)", file->path.c_str(), (*arch)->c_str());
}

Result<GgufFile> open_model_file(const std::string& path) {
  if (is_hf_folder(path)) return hf_folder_open(path);
  return gguf_open(path);
}

Result<std::unique_ptr<Model>> load_model(const std::string& path) {
  auto f = open_model_file(path);
  if (!f) return f.error();
  return load_model_from_gguf(std::make_shared<GgufFile>(std::move(*f)));
}

}  // namespace seek
