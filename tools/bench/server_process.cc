#include "tools/bench/server_process.h"

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
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
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

}  // namespace

std::string DescribeExit(int wait_status) {
  if (WIFEXITED(wait_status)) return absl::StrCat("exited with status ", WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) return absl::StrCat("was killed by signal ", WTERMSIG(wait_status));
  return "ended";
}

std::string LogTail(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  std::string log = text.str();
  if (log.size() > kLogTailBytes) log = "..." + log.substr(log.size() - kLogTailBytes);
  return log;
}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(ServerProcessOptions options) {
  absl::StatusOr<int> port = FreeLoopbackPort();
  if (!port.ok()) return port.status();
  const std::string address = absl::StrCat("127.0.0.1:", *port);
  std::vector<std::string> args = {options.binary, absl::StrCat("--listen=", address)};
  args.insert(args.end(), options.flags.begin(), options.flags.end());
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
  return std::unique_ptr<ServerProcess>(
      new ServerProcess(pid, std::move(options.name), address, std::move(options.log_file)));
}

ServerProcess::~ServerProcess() {
  if (pid_ == 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

std::string ServerProcess::Ending(int wait_status) const {
  return absl::StrCat(name_, " ", DescribeExit(wait_status), "; end of ", log_file_, ":\n",
                      LogTail(log_file_));
}

absl::Status ServerProcess::WaitUntilServing(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (absl::Status running = CheckRunning(); !running.ok()) return running;
    // A fresh channel per attempt, with a subchannel of its own: a refused connection would
    // otherwise wait out gRPC's reconnect backoff.
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    std::shared_ptr<grpc::Channel> channel =
        grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args);
    if (channel->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Milliseconds(300)))) {
      return absl::OkStatus();
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(name_, " at ", address_, " does not serve after ",
                       absl::FormatDuration(timeout), "; log: ", log_file_));
    }
  }
}

absl::Status ServerProcess::CheckRunning() {
  if (pid_ == 0) return absl::UnavailableError(absl::StrCat(name_, " was stopped"));
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == 0) return absl::OkStatus();
  pid_ = 0;
  return absl::UnavailableError(Ending(status));
}

absl::Status ServerProcess::Stop(absl::Duration timeout) {
  if (pid_ == 0) return absl::FailedPreconditionError(absl::StrCat(name_, " is not running"));
  kill(pid_, SIGTERM);
  const int64_t deadline = NowNanos() + absl::ToInt64Nanoseconds(timeout);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (NowNanos() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = 0;
      return absl::DeadlineExceededError(absl::StrCat(name_, " did not exit within ",
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
