// A small command-line parser for the subcommands: flags declared up front, values checked as they are read,
// and one clear error for an unknown flag, a missing value or a malformed number.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace seek::cli {

class Args {
 public:
  // `flags_with_value` and `switches` list every accepted option (aliases allowed: "-m", "--model").
  Args(std::string command, std::vector<std::string> flags_with_value, std::vector<std::string> switches);

  // Parses argv; positional arguments are kept in order.
  Result<void> parse(int argc, char** argv);

  bool has(const std::string& flag) const;
  std::optional<std::string> str(const std::string& flag) const;
  // Typed getters: a value that does not parse, or lies outside [lo, hi], is an error naming the flag.
  Result<long long> integer(const std::string& flag, long long def, long long lo, long long hi) const;
  Result<double> number(const std::string& flag, double def, double lo, double hi) const;
  const std::vector<std::string>& positional() const { return positional_; }
  const std::string& command() const { return command_; }

 private:
  std::string command_;
  std::vector<std::string> with_value_, switches_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

// Prints "seek COMMAND: message" to stderr and returns the exit code for a usage error (2).
int usage_error(const std::string& command, const std::string& message);
// Prints "seek COMMAND: message" to stderr and returns 1.
int fail(const std::string& command, const std::string& message);

// The model used when -m is not given: $SEEK_MODEL, else models/seek-tiny-v3.gguf next to the binary's
// install tree or in the source tree it was built from.
std::string default_model_path();

}  // namespace seek::cli
