#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <sstream>

#include "scenarios/conformance/sides.h"
#include "sim/str.h"

namespace conformance {
namespace {

struct Program {
  int status = 0;
  std::string output;  // stdout and stderr, interleaved as written
};

absl::StatusOr<Program> run_program(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe(fds) != 0) return absl::InternalError(sim::cat("pipe: ", std::strerror(errno)));
  // posix_spawn, not fork: a fork copies the page tables of this process,
  // which under AddressSanitizer (its shadow memory, its quarantine) made
  // each of a thousand qemu-io runs several times slower.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (spawned != 0) {
    close(fds[0]);
    return absl::InternalError(sim::cat("cannot run ", argv[0], ": ", std::strerror(spawned)));
  }
  Program p;
  char buf[65536];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    p.output.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  if (waitpid(pid, &p.status, 0) < 0) return absl::InternalError(sim::cat("waitpid: ", std::strerror(errno)));

  if (WIFEXITED(p.status) && WEXITSTATUS(p.status) == 127) {
    return absl::InternalError(sim::cat("cannot run ", argv[0], " ", argv.size() > 1 ? argv[1] : "", ": ", p.output));
  }
  return p;
}

// qemu-io prints strerror() of a failure; map it back to the errno.
int errno_of_message(std::string_view message) {
  for (int e = 1; e < 200; ++e) {
    if (message == std::strerror(e)) return e;
  }
  return 0;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Reads qemu-io's output one command at a time.
class Transcript {
 public:
  explicit Transcript(const std::string& text) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines_.push_back(line);
  }

  // `verb` is write, read, discard or flush. Reads parse their hex dump.
  absl::StatusOr<Outcome> next(std::string_view verb, std::uint64_t offset, std::uint64_t bytes) {
    Outcome o;
    const std::string failed = sim::cat(verb, " failed: ");
    if (verb == "flush") {
      if (at_end() || !starts_with(peek(), failed)) return o;
    }
    if (at_end()) return error(sim::cat("output ended before the ", verb, " at ", offset));
    if (starts_with(peek(), failed)) {
      const int e = errno_of_message(std::string_view(peek()).substr(failed.size()));
      if (e == 0) return error(sim::cat("unknown error message '", peek(), "'"));
      o.ret = -e;
      ++at_;
      return o;
    }
    if (verb == "read") {
      o.data.reserve(bytes);
      for (std::uint64_t line = 0; line * 16 < bytes; ++line) {
        if (at_end()) return error("output ended inside a hex dump");
        const std::string& text = lines_[at_];
        const std::string address = sim::cat(hex8(offset + line * 16), ":  ");
        if (!starts_with(text, address)) return error(sim::cat("expected a hex dump line at ", address, ", got '", text, "'"));
        const std::uint64_t count = std::min<std::uint64_t>(16, bytes - line * 16);
        for (std::uint64_t k = 0; k < count; ++k) {
          const std::size_t pos = address.size() + k * 3;
          if (pos + 2 > text.size()) return error(sim::cat("short hex dump line '", text, "'"));
          o.data.push_back(static_cast<std::uint8_t>(std::stoul(text.substr(pos, 2), nullptr, 16)));
        }
        ++at_;
      }
    }
    const std::string done_verb = verb == "write" ? "wrote" : verb == "read" ? "read" : "discard";
    const std::string done = sim::cat(done_verb, " ", bytes, "/", bytes, " bytes at offset ", offset);
    if (at_end() || peek() != done) return error(sim::cat("expected '", done, "', got '", at_end() ? "" : peek(), "'"));
    ++at_;
    if (!at_end() && peek().find(" ops; ") != std::string::npos) ++at_;  // the statistics line
    return o;
  }

  bool at_end() const { return at_ >= lines_.size(); }
  const std::string& peek() const { return lines_[at_]; }

 private:
  static std::string hex8(std::uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%08llx", static_cast<unsigned long long>(v));
    return buf;
  }
  absl::Status error(const std::string& what) const {
    return absl::InternalError(sim::cat("qemu-io output line ", at_ + 1, ": ", what));
  }

  std::vector<std::string> lines_;
  std::size_t at_ = 0;
};

}  // namespace

absl::StatusOr<SideResult> run_qemu_io(const Case& c, const std::string& qemu_io, const std::string& work_dir) {
  const std::string image = sim::cat(work_dir, "/case-", c.index, ".qemu.raw");
  if (absl::Status s = write_bytes(image, initial_image(c)); !s.ok()) return s;
  // Line-buffered output (coreutils' stdbuf), so that what ran before an
  // assertion is not lost in stdio's buffer when qemu-io aborts.
  std::vector<std::string> argv = {"/usr/bin/stdbuf", "-oL", qemu_io, "--image-opts",
                                   sim::cat("driver=blkdebug,", format_limits(c.limits, LimitStyle::kBlkdebug),
                                            ",image.driver=file,image.filename=", image)};
  for (const std::string& cmd : c.commands) {
    argv.push_back("-c");
    argv.push_back(starts_with(cmd, "read ") ? sim::cat("read -v ", cmd.substr(5)) : cmd);
  }
  absl::StatusOr<Program> program = run_program(argv);
  if (!program.ok()) return program.status();
  SideResult side;
  // An assertion in qemu-io ends the output early: what ran before it is parsed.
  const bool aborted = WIFSIGNALED(program->status);
  std::string output = program->output;
  if (aborted && WTERMSIG(program->status) != SIGABRT) {
    // A crash, not an assertion: named by its signal.
    side.abort_site = sim::cat("signal ", sigabbrev_np(WTERMSIG(program->status)));
    side.failure = sim::cat("qemu-io was killed by SIG", side.abort_site.substr(7));
  } else if (aborted) {
    const std::size_t at = output.find("Assertion `");
    if (at == std::string::npos) return absl::InternalError(sim::cat("qemu-io aborted without an assertion:\n", output));
    std::size_t line_start = output.rfind('\n', at);
    line_start = line_start == std::string::npos ? 0 : line_start + 1;
    std::size_t line_end = output.find('\n', at);
    side.failure = output.substr(line_start, line_end == std::string::npos ? std::string::npos : line_end - line_start);
    // "qemu-io: ../../block/blkdebug.c:732: blkdebug_co_pdiscard: Assertion ..."
    const std::size_t site_end = output.rfind(": Assertion", at + 1);
    const std::size_t site_start = output.rfind(": ", site_end - 1);
    if (site_end == std::string::npos || site_start == std::string::npos || site_start < line_start) {
      return absl::InternalError(sim::cat("cannot read the assertion '", side.failure, "'"));
    }
    side.abort_site = output.substr(site_start + 2, site_end - site_start - 2);
    output.erase(line_start);
  }
  Transcript transcript(output);
  for (const std::string& cmd : c.commands) {
    std::string verb;
    std::uint64_t offset = 0;
    std::uint64_t bytes = 0;
    split_command(cmd, verb, offset, bytes);
    // A flush prints nothing and blkdebug asserts nothing about flushes: after
    // the last output, the first other command is the one that aborted.
    if (aborted && transcript.at_end() && verb != "flush") break;
    absl::StatusOr<Outcome> o = transcript.next(verb, offset, bytes);
    if (!o.ok()) {
      if (aborted) break;  // the aborting command printed part of its output
      return absl::InternalError(sim::cat(o.status().message(), "\n--- qemu-io said:\n", program->output));
    }
    side.outcomes.push_back(std::move(*o));
  }
  if (!transcript.at_end()) {
    return absl::InternalError(sim::cat("qemu-io printed more than its commands explain: '", transcript.peek(),
                                        "'\n--- qemu-io said:\n", program->output));
  }
  if (aborted) return side;  // the image is whatever the abort left; not compared
  absl::StatusOr<std::vector<std::uint8_t>> final_image = read_bytes(image);
  if (!final_image.ok()) return final_image.status();
  side.image = std::move(*final_image);
  return side;
}

}  // namespace conformance
