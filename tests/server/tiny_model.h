// A generated v3-tiny model and its tokenizer, written once per test process, for the engine and HTTP tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <optional>

#include "formats/gguf.h"
#include "model/deepseek/synthetic.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace seek::server::testing {

struct TinyModel {
  std::unique_ptr<Model> model;
  std::optional<Tokenizer> tok;
};

inline const TinyModel& tiny_model() {
  static TinyModel* m = [] {
    namespace fs = std::filesystem;
    const std::string path =
        (fs::temp_directory_path() / ("seek_server_test_" + std::to_string(getpid()) + ".gguf")).string();
    auto spec = synthetic_preset("v3-tiny");
    EXPECT_TRUE(spec.has_value());
    auto w = write_synthetic_deepseek(*spec, path);
    EXPECT_TRUE(w.ok()) << (w.ok() ? "" : w.error().message);
    auto f = gguf_open(path);
    EXPECT_TRUE(f.ok());
    auto file = std::make_shared<GgufFile>(std::move(*f));
    auto* tm = new TinyModel;  // lives for the whole process (tests share it)
    auto model = load_model_from_gguf(file);
    EXPECT_TRUE(model.ok()) << (model.ok() ? "" : model.error().message);
    tm->model = std::move(*model);
    auto vocab = vocab_from_gguf(*file);
    EXPECT_TRUE(vocab.ok());
    auto tok = Tokenizer::create(std::move(*vocab));
    EXPECT_TRUE(tok.ok());
    tm->tok.emplace(std::move(*tok));
    fs::remove(path);
    return tm;
  }();
  return *m;
}

}  // namespace seek::server::testing
