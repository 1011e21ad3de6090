// Programs that tests start as separate processes: the server binaries, test helpers, grpcurl
// and curl.
#ifndef COOP_TESTS_TESTING_PROCESS_H_
#define COOP_TESTS_TESTING_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace coop::testing {

// Starts the program at path args[0] with arguments args[1..] and returns its pid without
// waiting, or -1 when fork fails. The child exits 127 when the program cannot be executed. The
// caller reaps it (WaitExit, or kill then WaitExit).
pid_t Spawn(const std::vector<std::string>& args);

// Waits for the child `pid` to end: its exit code, 128 + the signal that ended it, or -1 when
// waitpid fails (not a child of this process, or reaped already).
int WaitExit(pid_t pid);

struct CommandResult {
  int exit_code = -1;  // -1 when the shell could not start or did not exit normally.
  std::string output;  // Standard output and standard error, interleaved.
};

// Runs `command` with /bin/sh, its standard error merged into standard output, and waits for it.
CommandResult RunCommand(const std::string& command);

}  // namespace coop::testing

#endif  // COOP_TESTS_TESTING_PROCESS_H_
