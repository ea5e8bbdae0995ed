// Vocab -> GGUF tokenizer.ggml.* metadata (the keys and types llama.cpp's convert_hf_to_gguf.py writes).
#include "formats/gguf.h"
#include "tokenizer/vocab.h"

namespace seek {

void vocab_to_gguf(const Vocab& v, GgufWriter& w) {
  w.set_str("tokenizer.ggml.model", v.model);
  w.set_str("tokenizer.ggml.pre", v.pre);
  w.set_str_array("tokenizer.ggml.tokens", v.tokens);
  if (!v.token_types.empty()) w.set_i32_array("tokenizer.ggml.token_type", v.token_types);
  w.set_str_array("tokenizer.ggml.merges", v.merges);
  if (v.bos_id >= 0) w.set_u32("tokenizer.ggml.bos_token_id", uint32_t(v.bos_id));
  if (v.eos_id >= 0) w.set_u32("tokenizer.ggml.eos_token_id", uint32_t(v.eos_id));
  if (v.pad_id >= 0) w.set_u32("tokenizer.ggml.padding_token_id", uint32_t(v.pad_id));
  w.set_bool("tokenizer.ggml.add_bos_token", v.add_bos);
  w.set_bool("tokenizer.ggml.add_eos_token", v.add_eos);
  if (!v.chat_template.empty()) w.set_str("tokenizer.chat_template", v.chat_template);
}

}  // namespace seek
