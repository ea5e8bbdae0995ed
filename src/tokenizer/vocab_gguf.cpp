// Vocab from a GGUF file's tokenizer.ggml.* metadata, with each key's type checked and named on error.
#include "formats/gguf.h"
#include "tokenizer/vocab.h"

namespace seek {

namespace {

Result<std::vector<std::string>> string_array(const GgufFile& f, const std::string& key, bool required) {
  std::vector<std::string> out;
  const GgufValue* v = f.find(key);
  if (!v) {
    if (required) return err("%s: metadata key %s is missing", f.path.c_str(), key.c_str());
    return out;
  }
  if (v->type != GgufType::ARRAY || v->elem_type != GgufType::STRING)
    return err("%s: metadata key %s: expected an array of strings", f.path.c_str(), key.c_str());
  out.reserve(v->arr.size());
  for (const GgufValue& e : v->arr) out.push_back(e.s);
  return out;
}

Result<int32_t> token_id(const GgufFile& f, const std::string& key) {
  auto v = f.get_int(key);
  if (!v) return v.error();
  if (!v->has_value()) return -1;
  if (**v < 0 || **v > INT32_MAX)
    return err("%s: metadata key %s = %lld is not a token id", f.path.c_str(), key.c_str(), (long long)**v);
  return int32_t(**v);
}

}  // namespace

Result<Vocab> vocab_from_gguf(const GgufFile& f) {
  Vocab v;
  auto model = f.get_string("tokenizer.ggml.model");
  if (!model) return model.error();
  if (!model->has_value()) return err("%s: the file has no tokenizer (tokenizer.ggml.model is missing)", f.path.c_str());
  v.model = **model;
  auto pre = f.get_string("tokenizer.ggml.pre");
  if (!pre) return pre.error();
  v.pre = pre->value_or("default");

  auto tokens = string_array(f, "tokenizer.ggml.tokens", true);
  if (!tokens) return tokens.error();
  v.tokens = std::move(*tokens);
  auto merges = string_array(f, "tokenizer.ggml.merges", false);
  if (!merges) return merges.error();
  v.merges = std::move(*merges);

  if (const GgufValue* tt = f.find("tokenizer.ggml.token_type")) {
    if (tt->type != GgufType::ARRAY || !(tt->elem_type == GgufType::I32 || tt->elem_type == GgufType::U32))
      return err("%s: metadata key tokenizer.ggml.token_type: expected an array of i32", f.path.c_str());
    if (tt->arr.size() != v.tokens.size())
      return err("%s: tokenizer.ggml.token_type has %zu entries but there are %zu tokens", f.path.c_str(),
                 tt->arr.size(), v.tokens.size());
    v.token_types.reserve(tt->arr.size());
    for (const GgufValue& e : tt->arr) v.token_types.push_back(int32_t(e.i));
  }

  auto bos = token_id(f, "tokenizer.ggml.bos_token_id");
  if (!bos) return bos.error();
  auto eos = token_id(f, "tokenizer.ggml.eos_token_id");
  if (!eos) return eos.error();
  auto pad = token_id(f, "tokenizer.ggml.padding_token_id");
  if (!pad) return pad.error();
  v.bos_id = *bos;
  v.eos_id = *eos;
  v.pad_id = *pad;
  auto add_bos = f.get_bool("tokenizer.ggml.add_bos_token");
  if (!add_bos) return add_bos.error();
  auto add_eos = f.get_bool("tokenizer.ggml.add_eos_token");
  if (!add_eos) return add_eos.error();
  // llama.cpp's default for BPE vocabularies without the key is to add BOS when one is defined.
  v.add_bos = add_bos->value_or(v.bos_id >= 0);
  v.add_eos = add_eos->value_or(false);
  auto tmpl = f.get_string("tokenizer.chat_template");
  if (!tmpl) return tmpl.error();
  v.chat_template = tmpl->value_or("");
  return v;
}

}  // namespace seek
