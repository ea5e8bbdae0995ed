// Result<T>: a value or an error message naming what went wrong and where. Used at every edge (I/O, parsing,
// config, HTTP); kernels assert instead.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace seek {

struct Error {
  std::string message;
};

// Builds an Error from printf-style arguments: err("%s: offset %llu: bad tensor count", path, off).
template <class... Args>
Error err(const char* fmt, Args... args) {
  int n = std::snprintf(nullptr, 0, fmt, args...);
  std::string s(n > 0 ? size_t(n) : 0, '\0');
  if (n > 0) std::snprintf(s.data(), s.size() + 1, fmt, args...);
  return Error{std::move(s)};
}
inline Error err(const char* msg) { return Error{msg}; }

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error e) : v_(std::move(e)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : e_(std::move(e)), failed_(true) {}
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return e_; }

 private:
  Error e_;
  bool failed_ = false;
};

}  // namespace seek

// Propagates an error from an expression returning Result<...>.
#define SEEK_TRY(expr)                                  \
  do {                                                  \
    auto seek_try_r_ = (expr);                          \
    if (!seek_try_r_.ok()) return seek_try_r_.error();  \
  } while (0)
