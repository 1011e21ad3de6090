#include "tests/testing/kafka_env.h"

#include <cstdlib>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"

namespace coop::testing {

std::string BootstrapServersOrFail(const char* variable) {
  const char* value = std::getenv(variable);
  if (value == nullptr || *value == '\0') {
    ADD_FAILURE() << variable
                  << " is not set: this test needs a real Kafka broker. Run the whole suite "
                     "with tools/test (it starts the brokers), or start one with "
                     "deploy/kafka/start (add --nodes 3 for the cluster) and set "
                  << variable << " to the bootstrap=... line it prints.";
    return "";
  }
  return value;
}

std::string UniqueTopicName(absl::string_view prefix) {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string test =
      info != nullptr ? absl::StrCat(info->test_suite_name(), ".", info->name()) : "no-test";
  test = absl::StrReplaceAll(test, {{"/", "-"}});
  std::random_device random;
  return absl::StrCat(prefix, ".", test, ".", random() % 1000000000);
}

}  // namespace coop::testing
