// Argument parsing and the default-model lookup shared by the subcommands.
#include "cli/args.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace seek::cli {

Args::Args(std::string command, std::vector<std::string> flags_with_value, std::vector<std::string> switches)
    : command_(std::move(command)), with_value_(std::move(flags_with_value)), switches_(std::move(switches)) {}

Result<void> Args::parse(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() > 1 && a[0] == '-' && !(a.size() > 1 && (std::isdigit(static_cast<unsigned char>(a[1])) || a[1] == '.'))) {
      std::string value;
      bool inline_value = false;
      if (auto eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
        value = a.substr(eq + 1);
        a = a.substr(0, eq);
        inline_value = true;
      }
      if (std::find(switches_.begin(), switches_.end(), a) != switches_.end()) {
        if (inline_value) return err("option %s takes no value", a.c_str());
        values_[a] = "1";
      } else if (std::find(with_value_.begin(), with_value_.end(), a) != with_value_.end()) {
        if (!inline_value) {
          if (i + 1 >= argc) return err("option %s needs a value", a.c_str());
          value = argv[++i];
        }
        values_[a] = value;
      } else {
        return err("unknown option %s (see 'seek %s --help')", a.c_str(), command_.c_str());
      }
    } else {
      positional_.push_back(a);
    }
  }
  return {};
}

bool Args::has(const std::string& flag) const { return values_.count(flag) > 0; }

std::optional<std::string> Args::str(const std::string& flag) const {
  auto it = values_.find(flag);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

Result<long long> Args::integer(const std::string& flag, long long def, long long lo, long long hi) const {
  auto s = str(flag);
  if (!s) return def;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s->c_str(), &end, 10);
  if (s->empty() || *end || errno == ERANGE)
    return err("option %s expects an integer, got '%s'", flag.c_str(), s->c_str());
  if (v < lo || v > hi) return err("option %s must be between %lld and %lld, got %lld", flag.c_str(), lo, hi, v);
  return v;
}

Result<double> Args::number(const std::string& flag, double def, double lo, double hi) const {
  auto s = str(flag);
  if (!s) return def;
  char* end = nullptr;
  double v = std::strtod(s->c_str(), &end);
  if (s->empty() || *end || !std::isfinite(v))
    return err("option %s expects a number, got '%s'", flag.c_str(), s->c_str());
  if (v < lo || v > hi) return err("option %s must be between %g and %g, got %g", flag.c_str(), lo, hi, v);
  return v;
}

int usage_error(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "seek %s: %s\n", command.c_str(), message.c_str());
  return 2;
}

int fail(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "seek %s: %s\n", command.c_str(), message.c_str());
  return 1;
}

std::string default_model_path() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("SEEK_MODEL"); env && *env) return env;
  const char* kName = "models/seek-tiny-v3.gguf";
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // build/seek -> ../models, bin/seek -> ../share/seek/models
    for (fs::path dir = exe.parent_path(); !dir.empty() && dir != dir.root_path(); dir = dir.parent_path()) {
      if (fs::exists(dir / kName, ec)) return (dir / kName).string();
      if (fs::exists(dir / "share/seek" / kName, ec)) return (dir / "share/seek" / kName).string();
    }
  }
#ifdef SEEK_SOURCE_DIR
  if (fs::exists(fs::path(SEEK_SOURCE_DIR) / kName, ec)) return (fs::path(SEEK_SOURCE_DIR) / kName).string();
#endif
  return kName;
}

}  // namespace seek::cli
