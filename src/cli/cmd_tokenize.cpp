// seek tokenize: the token ids of a text under a model's tokenizer (a .gguf, or a folder with tokenizer.json),
// with --pieces to show each token's text and --count for the number of tokens only.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/args.h"
#include "cli/commands.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace seek::cli {

namespace {

constexpr const char* kUsage =
    "usage: seek tokenize -m MODEL (--text S | --file PATH|-) [--pieces] [--count] [--no-bos] [--special]\n"
    "  MODEL      a .gguf file, a tokenizer.json, or a folder with tokenizer.json (+ tokenizer_config.json)\n"
    "  --pieces   one line per token: id, tab, the token's text (escaped)\n"
    "  --count    print only the number of tokens\n"
    "  --no-bos   do not add the BOS token the model adds by default\n"
    "  --special  match control tokens (<｜User｜>, <｜end▁of▁sentence｜> ...) written in the text";

// A token's bytes made printable: C escapes for control characters, \xNN for bytes that are not UTF-8.
std::string escaped(std::string_view piece) {
  std::string out;
  for (size_t i = 0; i < piece.size();) {
    const auto* p = reinterpret_cast<const unsigned char*>(piece.data()) + i;
    const unicode::Decoded d = unicode::decode_utf8(p, reinterpret_cast<const unsigned char*>(piece.data()) + piece.size());
    char buf[8];
    if (d.cp >= unicode::kInvalidBase || d.cp < 0x20 || d.cp == 0x7F || d.cp == '\\') {
      const unsigned b = p[0];
      if (b == '\n') out += "\\n";
      else if (b == '\t') out += "\\t";
      else if (b == '\r') out += "\\r";
      else if (b == '\\') out += "\\\\";
      else {
        std::snprintf(buf, sizeof buf, "\\x%02X", b);
        out += buf;
      }
      i += 1;
    } else {
      out.append(piece.substr(i, d.len));
      i += d.len;
    }
  }
  return out;
}

Result<std::string> read_text(const Args& a) {
  if (auto t = a.str("--text")) return *t;
  const auto file = a.str("--file");
  if (!file) return err("give the text with --text S or --file PATH (- for stdin)");
  std::ostringstream ss;
  if (*file == "-") {
    ss << std::cin.rdbuf();
  } else {
    std::ifstream f(*file, std::ios::binary);
    if (!f) return err("%s: cannot open", file->c_str());
    ss << f.rdbuf();
  }
  return ss.str();
}

}  // namespace

int cmd_tokenize(int argc, char** argv) {
  Args a("tokenize", {"-m", "--model", "--text", "--file"}, {"--pieces", "--count", "--no-bos", "--special", "--help", "-h"});
  if (auto r = a.parse(argc, argv); !r) return fail("tokenize", r.error().message);
  if (a.has("--help") || a.has("-h")) {
    std::puts(kUsage);
    return 0;
  }
  const std::string path = a.str("-m") ? *a.str("-m") : a.str("--model").value_or(default_model_path());
  auto text = read_text(a);
  if (!text) return fail("tokenize", text.error().message);
  auto vocab = vocab_from_path(path);
  if (!vocab) return fail("tokenize", vocab.error().message);
  auto tok = Tokenizer::create(std::move(vocab.value()));
  if (!tok) return fail("tokenize", path + ": " + tok.error().message);

  const std::vector<int32_t> ids = tok->encode(*text, tok->add_bos() && !a.has("--no-bos"), a.has("--special"));
  if (a.has("--count")) {
    std::printf("%zu\n", ids.size());
  } else if (a.has("--pieces")) {
    for (int32_t id : ids) std::printf("%d\t%s\n", id, escaped(tok->piece(id)).c_str());
  } else {
    std::string line;
    for (int32_t id : ids) {
      if (!line.empty()) line += ' ';
      line += std::to_string(id);
    }
    std::puts(line.c_str());
  }
  return 0;
}

}  // namespace seek::cli
