// vocab_from_path: picks the reader from what the path is (.gguf file, tokenizer.json, or a model folder).
#include <filesystem>

#include "formats/gguf.h"
#include "tokenizer/vocab.h"

namespace seek {

Result<Vocab> vocab_from_path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    const fs::path dir(path);
    if (!fs::exists(dir / "tokenizer.json")) {
      return err("%s: folder has no tokenizer.json (expected a Hugging Face model folder or a .gguf file)", path.c_str());
    }
    const fs::path config = dir / "tokenizer_config.json";
    return vocab_from_hf_json((dir / "tokenizer.json").string(), fs::exists(config) ? config.string() : "");
  }
  if (!fs::exists(path, ec)) return err("%s: no such file or folder", path.c_str());
  if (fs::path(path).extension() == ".json") {
    const fs::path config = fs::path(path).parent_path() / "tokenizer_config.json";
    return vocab_from_hf_json(path, fs::exists(config) ? config.string() : "");
  }
  auto gguf = gguf_open(path);
  if (!gguf) return gguf.error();
  return vocab_from_gguf(*gguf);
}

}  // namespace seek
