// Errors as values: Result<T> holds a T or an Error; Status is Result<void>.
// Nothing in Meadow throws across a library, thread or callback boundary.
#pragma once

#include <cassert>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace meadow {

// What kind of failure this is. The coordinator maps kinds to HTTP status codes in
// exactly one place (coordinator/api/problem.cpp); other front ends map them to exit codes.
enum class ErrorKind : std::uint8_t {
  invalid,          // the input is malformed or out of range
  unauthenticated,  // no credentials, or credentials that do not verify
  forbidden,        // authenticated, but not allowed to do this
  not_found,        // the thing named does not exist (or is not visible to the caller)
  conflict,         // the request contradicts current state (stale token, already done)
  too_large,        // over a size cap
  rate_limited,     // over a rate or quota; try later
  unavailable,      // a dependency is down or the service is shutting down; try later
  io,               // a local file or database operation failed
  internal,         // a bug: an invariant did not hold
};

const char* to_string(ErrorKind kind) noexcept;

// An error a user or client can act on. `code` is stable and machine-readable
// (kebab-case, e.g. "stale-token"); `message` says what was wrong and what to do.
struct Error {
  ErrorKind kind = ErrorKind::internal;
  std::string code;
  std::string message;
};

inline Error make_error(ErrorKind kind, std::string code, std::string message) {
  return Error{kind, std::move(code), std::move(message)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(implicit)
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(implicit)

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& { assert(!ok()); return std::get<1>(v_); }
  Error&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(implicit)

  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const& { assert(!ok_); return error_; }
  Error&& error() && { assert(!ok_); return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok_status() { return Status{}; }

}  // namespace meadow

// Early return on error: MEADOW_TRY(status_expr); MEADOW_ASSIGN(var, result_expr);
#define MEADOW_CONCAT_INNER(a, b) a##b
#define MEADOW_CONCAT(a, b) MEADOW_CONCAT_INNER(a, b)
#define MEADOW_TRY(expr)                                   \
  do {                                                     \
    auto meadow_try_status_ = (expr);                      \
    if (!meadow_try_status_.ok())                          \
      return std::move(meadow_try_status_).error();        \
  } while (0)
#define MEADOW_ASSIGN_IMPL(tmp, decl, expr)                \
  auto tmp = (expr);                                       \
  if (!tmp.ok()) return std::move(tmp).error();            \
  decl = std::move(tmp).value()
#define MEADOW_ASSIGN(decl, expr) \
  MEADOW_ASSIGN_IMPL(MEADOW_CONCAT(meadow_assign_, __LINE__), decl, expr)
