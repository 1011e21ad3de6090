// Status propagation helpers. Our Abseil (20220623) has no RETURN_IF_ERROR / ASSIGN_OR_RETURN, so
// this is the one local pair the whole project uses.
#ifndef COOP_COMMON_STATUS_MACROS_H_
#define COOP_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status) and returns it from the enclosing function if it is not OK.
#define COOP_RETURN_IF_ERROR(expr)                                  \
  do {                                                              \
    if (::absl::Status coop_status_ = (expr); !coop_status_.ok()) { \
      return coop_status_;                                          \
    }                                                               \
  } while (false)

#define COOP_STATUS_MACROS_CONCAT_INNER_(a, b) a##b
#define COOP_STATUS_MACROS_CONCAT_(a, b) COOP_STATUS_MACROS_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status from the enclosing
// function, otherwise moves the value into `lhs` (which may be a declaration: `auto x`).
#define COOP_ASSIGN_OR_RETURN(lhs, rexpr) \
  COOP_ASSIGN_OR_RETURN_IMPL_(COOP_STATUS_MACROS_CONCAT_(coop_statusor_, __LINE__), lhs, rexpr)

#define COOP_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                \
  if (!statusor.ok()) {                                   \
    return std::move(statusor).status();                  \
  }                                                       \
  lhs = std::move(statusor).value()

#endif  // COOP_COMMON_STATUS_MACROS_H_
