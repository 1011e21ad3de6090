// Ports for servers that tests start as separate processes.
#ifndef COOP_TESTS_TESTING_PORTS_H_
#define COOP_TESTS_TESTING_PORTS_H_

namespace coop::testing {

// A loopback TCP port that was free a moment ago (the server binds it right after).
int FreeLoopbackPort();

}  // namespace coop::testing

#endif  // COOP_TESTS_TESTING_PORTS_H_
