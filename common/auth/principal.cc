#include "common/auth/principal.h"

#include "absl/strings/str_cat.h"

namespace coop::auth {

std::string EventSource(const Principal& principal) {
  return absl::StrCat("publishers/", principal.id);
}

}  // namespace coop::auth
