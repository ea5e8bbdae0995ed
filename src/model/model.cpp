// Architecture dispatch: reads general.architecture and builds the matching model.
#include "model/model.h"

#include "formats/gguf.h"
#include "model/deepseek/deepseek.h"
#include "model/llama/llama.h"

namespace seek {

Result<std::unique_ptr<Model>> load_model_from_gguf(std::shared_ptr<GgufFile> file) {
  auto arch = file->get_string("general.architecture");
  if (!arch) return arch.error();
  if (!arch->has_value()) return err("%s: metadata key general.architecture is missing", file->path.c_str());
  if (**arch == "deepseek2") return load_deepseek(std::move(file));
  if (**arch == "llama" || **arch == "qwen2") return load_llama(std::move(file));
  return err("%s: architecture '%s' is not supported (supported: deepseek2)", file->path.c_str(), (*arch)->c_str());
}

Result<std::unique_ptr<Model>> load_model(const std::string& path) {
  auto f = gguf_open(path);
  if (!f) return f.error();
  return load_model_from_gguf(std::make_shared<GgufFile>(std::move(*f)));
}

}  // namespace seek
