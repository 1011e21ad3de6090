#include "tools/bench/publisher_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/bench/measurement.h"

extern char** environ;

namespace coop::bench {
namespace {

constexpr size_t kLogTailBytes = 2000;

// A loopback port nobody listens on right now (the kernel's choice for port 0).
absl::StatusOr<int> FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  const int error = errno;
  close(fd);
  if (!ok) return absl::InternalError(absl::StrCat("bind 127.0.0.1:0: ", std::strerror(error)));
  return ntohs(address.sin_port);
}

std::string LogTail(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  std::string log = text.str();
  if (log.size() > kLogTailBytes) log = "..." + log.substr(log.size() - kLogTailBytes);
  return log;
}

}  // namespace

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

absl::StatusOr<std::unique_ptr<PublisherProcess>> PublisherProcess::Start(
    const PublisherProcessOptions& options) {
  absl::StatusOr<int> port = FreeLoopbackPort();
  if (!port.ok()) return port.status();
  const std::string address = absl::StrCat("127.0.0.1:", *port);
  std::vector<std::string> args = {
      options.binary,
      "--insecure_plaintext",
      absl::StrCat("--listen=", address),
      absl::StrCat("--bootstrap_servers=", options.bootstrap_servers),
      absl::StrCat("--events_topic=", options.events_topic),
      absl::StrCat("--policy=", options.policy_file),
      absl::StrCat("--instance_id=", options.instance_id),
  };
  args.insert(args.end(), options.extra_flags.begin(), options.extra_flags.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, options.log_file.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = 0;
  const int error =
      posix_spawn(&pid, options.binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    return absl::InternalError(
        absl::StrCat("cannot start ", options.binary, ": ", std::strerror(error)));
  }
  return std::unique_ptr<PublisherProcess>(new PublisherProcess(pid, address, options.log_file));
}

PublisherProcess::~PublisherProcess() {
  if (pid_ == 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

std::string PublisherProcess::Ending(int wait_status) const {
  std::string how;
  if (WIFEXITED(wait_status)) {
    how = absl::StrCat("exited with status ", WEXITSTATUS(wait_status));
  } else if (WIFSIGNALED(wait_status)) {
    how = absl::StrCat("was killed by signal ", WTERMSIG(wait_status));
  } else {
    how = "ended";
  }
  return absl::StrCat("coop-publisher ", how, "; end of ", log_file_, ":\n", LogTail(log_file_));
}

absl::Status PublisherProcess::CheckRunning() {
  if (pid_ == 0) return absl::UnavailableError("coop-publisher was stopped");
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == 0) return absl::OkStatus();
  pid_ = 0;
  return absl::UnavailableError(Ending(status));
}

absl::Status PublisherProcess::Stop(absl::Duration timeout) {
  if (pid_ == 0) return absl::FailedPreconditionError("coop-publisher is not running");
  kill(pid_, SIGTERM);
  const int64_t deadline = NowNanos() + absl::ToInt64Nanoseconds(timeout);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (NowNanos() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = 0;
      return absl::DeadlineExceededError(absl::StrCat("coop-publisher did not exit within ",
                                                      absl::FormatDuration(timeout),
                                                      " of SIGTERM; killed. Log: ", log_file_));
    }
    SleepUntilNanos(NowNanos() + 10'000'000);
  }
  pid_ = 0;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(Ending(status));
}

}  // namespace coop::bench
