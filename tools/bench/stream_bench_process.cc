#include "tools/bench/stream_bench_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "grpcpp/grpcpp.h"
#include "tools/bench/measurement.h"

extern char** environ;

namespace coop::bench {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<StreamProcess>> StartStreamProcess(
    const StreamProcessOptions& options) {
  std::vector<std::string> flags = {
      "--insecure_plaintext",
      absl::StrCat("--anonymous_principal=", options.anonymous_principal),
      absl::StrCat("--bootstrap_servers=", options.bootstrap_servers),
      absl::StrCat("--events_topic=", options.events_topic),
      absl::StrCat("--policy=", options.policy_file),
      "--metrics_listen=",
  };
  flags.insert(flags.end(), options.extra_flags.begin(), options.extra_flags.end());
  return ServerProcess::Start({.name = "coop-stream",
                               .binary = options.binary,
                               .flags = std::move(flags),
                               .log_file = options.log_file});
}

absl::StatusOr<ProcessMemory> ReadProcessMemory(pid_t pid) {
  const std::string status = ReadFile(absl::StrCat("/proc/", pid, "/status"));
  if (status.empty()) return absl::NotFoundError(absl::StrCat("process ", pid, " is gone"));
  ProcessMemory memory;
  bool rss = false;
  bool hwm = false;
  // Lines like "VmRSS:\t   12345 kB".
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    int64_t* field = nullptr;
    if (absl::ConsumePrefix(&line, "VmRSS:")) {
      field = &memory.rss_bytes;
      rss = true;
    } else if (absl::ConsumePrefix(&line, "VmHWM:")) {
      field = &memory.hwm_bytes;
      hwm = true;
    } else {
      continue;
    }
    line = absl::StripAsciiWhitespace(line);
    int64_t kib = 0;
    if (!absl::ConsumeSuffix(&line, " kB") || !absl::SimpleAtoi(line, &kib)) {
      return absl::InternalError(absl::StrCat("/proc/", pid, "/status: cannot read '", line, "'"));
    }
    *field = kib * 1024;
  }
  if (!rss || !hwm) {
    return absl::InternalError(absl::StrCat("/proc/", pid, "/status has no VmRSS or VmHWM"));
  }
  return memory;
}

absl::StatusOr<pid_t> ReadPidFile(const std::string& path) {
  if (path.empty()) return 0;
  const std::string text = ReadFile(path);
  int pid = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &pid) || pid <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("no pid in ", path));
  }
  return static_cast<pid_t>(pid);
}

absl::StatusOr<KcatResult> RunKcat(const std::string& kcat, const std::string& bootstrap_servers,
                                   const std::string& topic, const std::string& log_file) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  std::vector<std::string> args = {kcat, "-C",  "-b", bootstrap_servers,
                                   "-t", topic, "-o", "beginning",
                                   "-e", "-q",  "-f", "%o\n"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_file.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int64_t start_ns = NowNanos();
  const int error = posix_spawnp(&pid, kcat.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (error != 0) {
    close(pipe_fds[0]);
    return absl::InternalError(absl::StrCat("cannot run ", kcat, ": ", std::strerror(error),
                                            " (Debian package kcat; tools/bootstrap)"));
  }
  KcatResult result;
  std::array<char, 1 << 16> buffer;
  ssize_t n = 0;
  while ((n = read(pipe_fds[0], buffer.data(), buffer.size())) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (ssize_t i = 0; i < n; ++i) result.records += buffer[static_cast<size_t>(i)] == '\n';
  }
  close(pipe_fds[0]);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  result.wall_seconds = static_cast<double>(NowNanos() - start_ns) / 1e9;
  result.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("kcat ", DescribeExit(status), "; end of ", log_file,
                                            ":\n", LogTail(log_file)));
  }
  return result;
}

}  // namespace coop::bench
