#include "tools/bench/publisher_process.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace coop::bench {

absl::StatusOr<bool> BinaryHasFlag(const std::string& binary, const std::string& name) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  std::string program = binary;
  std::string help = "--helpfull";
  char* argv[] = {program.data(), help.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  pid_t pid = 0;
  const int error = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  std::string output;
  if (error == 0) {
    char buffer[4096];
    ssize_t n = 0;
    while ((n = read(pipe_fds[0], buffer, sizeof(buffer))) > 0) output.append(buffer, n);
    waitpid(pid, nullptr, 0);
  }
  close(pipe_fds[0]);
  if (error != 0) {
    return absl::InternalError(absl::StrCat("cannot run ", binary, ": ", std::strerror(error)));
  }
  // absl's --helpfull lists each flag as "--name (description); default: ...".
  return output.find(absl::StrCat("--", name, " (")) != std::string::npos;
}

absl::StatusOr<std::unique_ptr<PublisherProcess>> StartPublisher(
    const PublisherProcessOptions& options) {
  std::vector<std::string> flags = {
      "--insecure_plaintext",
      absl::StrCat("--bootstrap_servers=", options.bootstrap_servers),
      absl::StrCat("--events_topic=", options.events_topic),
      absl::StrCat("--policy=", options.policy_file),
      absl::StrCat("--instance_id=", options.instance_id),
  };
  flags.insert(flags.end(), options.extra_flags.begin(), options.extra_flags.end());
  return ServerProcess::Start({.name = "coop-publisher",
                               .binary = options.binary,
                               .flags = std::move(flags),
                               .log_file = options.log_file});
}

}  // namespace coop::bench
