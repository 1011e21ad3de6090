#include "tests/testing/postgres_env.h"

#include <cstdlib>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace coop::testing {
namespace {

constexpr size_t kMaxTestNameBytes = 40;

}  // namespace

std::string PostgresUrlOrFail() {
  const char* value = std::getenv(kPostgresUrlVariable);
  if (value == nullptr || *value == '\0') {
    ADD_FAILURE() << kPostgresUrlVariable
                  << " is not set: this test needs a real PostgreSQL server. Run the whole suite "
                     "with tools/test (it starts one), or start one with deploy/postgres/start "
                     "--port 29532 --data-dir build/test-postgres and set "
                  << kPostgresUrlVariable << " to the url=... line it prints.";
    return "";
  }
  return value;
}

std::string UniqueSchemaName() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string test = info != nullptr ? info->name() : "no_test";
  std::string name;
  for (char c : test) {
    if (name.size() == kMaxTestNameBytes) break;
    name += absl::ascii_isalnum(static_cast<unsigned char>(c))
                ? absl::ascii_tolower(static_cast<unsigned char>(c))
                : '_';
  }
  std::random_device random;
  return absl::StrCat("coop_test_", name, "_", random() % 1000000000);
}

}  // namespace coop::testing
