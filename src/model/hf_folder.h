// A Hugging Face model folder (config.json, safetensors shards, tokenizer.json) seen as the GGUF file llama.cpp's
// converter would write from it, without converting anything: metadata is translated from config.json and the
// tokenizer files, tensors are renamed and point into the mapped shards. FP8 weights keep their block scales,
// experts stored one tensor each are presented stacked. The model families and `seek convert` then read it like
// any GGUF file.
#pragma once

#include <string>

#include "core/result.h"
#include "formats/gguf.h"

namespace seek {

// True when `path` is a folder holding config.json.
bool is_hf_folder(const std::string& path);

// Opens the folder. Architectures: DeepseekV3ForCausalLM and DeepseekV2ForCausalLM (as deepseek2),
// Qwen2ForCausalLM (qwen2), LlamaForCausalLM (llama). Errors name the file and the key or tensor.
Result<GgufFile> hf_folder_open(const std::string& dir);

// Metadata keys this reader adds that are not part of any GGUF convention (dropped by `seek convert`):
// seek.rope.neox = true marks Llama q/k weights still in Hugging Face's row order (rotate-half rotary), which
// GGUF files store permuted for interleaved rotary.
inline constexpr const char* kHfRopeNeoxKey = "seek.rope.neox";

}  // namespace seek
