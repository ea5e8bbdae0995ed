// Learning the merges of the synthetic vocabulary from a fixed paragraph (deterministic, no data files).
#include "model/synthetic_vocab.h"

#include <cctype>
#include <map>
#include <utility>

namespace seek {

namespace {

// Original text written for seek's tests.
constexpr const char* kText =
    "The engine reads the model file, maps the weights into memory and runs every layer of the network on the "
    "processor of the machine it is running on. Nothing leaves the computer: the prompt, the answer and the "
    "weights stay where they are. A model with many experts reads only the experts that the router chooses for "
    "each token, so the cost of a token is set by the active weights and not by the whole model. The latent "
    "attention keeps a small cache for every token, and the cache grows with the length of the conversation. "
    "When the answer is long, the engine streams it one token at a time, and the person reading it sees the "
    "words as soon as they are made. Numbers such as 2024, 128 and 3.14 are split into short pieces. "
    "She said: \"It works on my laptop, it works on the server, and it works without a network.\" "
    "The quick brown fox jumps over the lazy dog while the cat sleeps in the warm sun by the window.";

std::string utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += char(cp);
  } else if (cp < 0x800) {
    s += char(0xC0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3F));
  } else {
    s += char(0xE0 | (cp >> 12));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  }
  return s;
}

}  // namespace

std::string byte_to_unicode(uint8_t b) {
  // Printable bytes map to themselves; the rest to 256, 257, ... in byte order (GPT-2's bytes_to_unicode).
  auto printable = [](int c) { return (c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255); };
  if (printable(b)) return utf8(b);
  int n = 0;
  for (int c = 0; c < b; ++c) n += !printable(c);
  return utf8(uint32_t(256 + n));
}

SyntheticVocab make_synthetic_vocab(int n_merges) {
  SyntheticVocab v;
  v.tokens = {"<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"};
  v.token_types = {3, 3};
  for (int b = 0; b < 256; ++b) {
    v.tokens.push_back(byte_to_unicode(uint8_t(b)));
    v.token_types.push_back(1);
  }
  // Words: a run of letters with an optional leading space, or any other single byte.
  std::vector<std::vector<std::string>> words;
  const std::string text = kText;
  for (size_t i = 0; i < text.size();) {
    size_t j = i;
    if (text[j] == ' ') ++j;
    while (j < text.size() && std::isalpha(static_cast<unsigned char>(text[j]))) ++j;
    if (j == i) j = i + 1;
    std::vector<std::string> w;
    for (size_t k = i; k < j; ++k) w.push_back(byte_to_unicode(uint8_t(text[k])));
    words.push_back(std::move(w));
    i = j;
  }
  for (int m = 0; m < n_merges; ++m) {
    std::map<std::pair<std::string, std::string>, int> counts;
    for (const auto& w : words)
      for (size_t k = 0; k + 1 < w.size(); ++k) ++counts[{w[k], w[k + 1]}];
    if (counts.empty()) break;
    auto best = counts.begin();
    for (auto it = counts.begin(); it != counts.end(); ++it)
      if (it->second > best->second) best = it;
    if (best->second < 2) break;
    const auto [a, b] = best->first;
    v.merges.push_back(a + " " + b);
    v.tokens.push_back(a + b);
    v.token_types.push_back(1);
    for (auto& w : words) {
      std::vector<std::string> out;
      for (size_t k = 0; k < w.size(); ++k) {
        if (k + 1 < w.size() && w[k] == a && w[k + 1] == b) {
          out.push_back(a + b);
          ++k;
        } else {
          out.push_back(w[k]);
        }
      }
      w = std::move(out);
    }
  }
  for (const char* s : {"<｜User｜>", "<｜Assistant｜>", "<think>", "</think>"}) {
    v.tokens.push_back(s);
    v.token_types.push_back(3);
  }
  return v;
}

Vocab generated_model_vocab(const Vocab* real, int n_merges, const std::string& pre, int64_t pad_to) {
  Vocab v;
  if (real) {
    v = *real;
    v.token_types.resize(v.tokens.size(), kTokenNormal);  // none recorded: all normal
    // llama.cpp's converter pads a vocabulary to the model's size with [PADn] (a real vocabulary may already hold
    // the synthetic one's placeholder names).
    while (int64_t(v.tokens.size()) < pad_to) {
      v.tokens.push_back("[PAD" + std::to_string(v.tokens.size()) + "]");
      v.token_types.push_back(kTokenUnused);
    }
    return v;
  }
  SyntheticVocab sv = make_synthetic_vocab(n_merges);
  for (int64_t k = 0; int64_t(sv.tokens.size()) < pad_to; ++k) {
    sv.tokens.push_back("<｜place▁holder▁no▁" + std::to_string(k) + "｜>");
    sv.token_types.push_back(kTokenUnused);
  }
  v.model = "gpt2";
  v.pre = pre;
  v.tokens = std::move(sv.tokens);
  v.token_types = std::move(sv.token_types);
  v.merges = std::move(sv.merges);
  v.bos_id = sv.bos_id;
  v.eos_id = sv.eos_id;
  v.add_bos = true;
  return v;
}

}  // namespace seek
