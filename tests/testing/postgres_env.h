// Where integration tests find their PostgreSQL server. tools/test starts one and sets the
// variable; a test run without it fails with instructions instead of skipping.
#ifndef COOP_TESTS_TESTING_POSTGRES_ENV_H_
#define COOP_TESTS_TESTING_POSTGRES_ENV_H_

#include <string>

namespace coop::testing {

// COOP_TEST_POSTGRES_URL: a libpq URL of a database the tests may create schemas in.
inline constexpr char kPostgresUrlVariable[] = "COOP_TEST_POSTGRES_URL";

// The value of COOP_TEST_POSTGRES_URL, or an empty string after recording a test failure that
// says how to start a server. Call from the test body or SetUp and return when it is empty.
std::string PostgresUrlOrFail();

// A schema name no other test (or earlier run) uses: "coop_test_", the test's name (lower case,
// cut to fit PostgreSQL's 63-byte identifiers) and a random suffix.
std::string UniqueSchemaName();

}  // namespace coop::testing

#endif  // COOP_TESTS_TESTING_POSTGRES_ENV_H_
