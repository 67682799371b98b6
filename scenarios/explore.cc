#include "scenarios/explore.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <chrono>
#include <cstring>
#include <deque>
#include <map>

#include <nlohmann/json.hpp>

#include "sim/str.h"

namespace scenarios {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

std::string seed_outcome_json(const SeedOutcome& o) {
  nlohmann::json j = {{"seed", o.seed},         {"verdict", o.verdict}, {"property", o.property},
                      {"signature", o.signature},   {"known_defect", o.known_defect},
                      {"message", o.message},   {"details", o.details}, {"location", o.location},
                      {"strategy", o.strategy},
                      {"fingerprint", o.fingerprint}, {"events", o.events}, {"probes", o.probes},
                      {"probes_in_checks", o.probes_in_checks}};
  return j.dump();
}

std::optional<SeedOutcome> seed_outcome_from_json(const std::string& line) {
  try {
    const nlohmann::json j = nlohmann::json::parse(line);
    for (const char* key : {"seed", "fingerprint", "events"}) {
      if (!j.at(key).is_number_unsigned()) return std::nullopt;  // no silent wrap of -1 or 1e30
    }
    SeedOutcome o;
    o.seed = j.at("seed").get<std::uint64_t>();
    o.verdict = j.at("verdict").get<std::string>();
    o.property = j.at("property").get<std::string>();
    o.signature = j.at("signature").get<std::string>();
    o.known_defect = j.at("known_defect").get<std::string>();
    o.message = j.at("message").get<std::string>();
    o.details = j.at("details").get<std::vector<std::string>>();
    o.location = j.at("location").get<std::string>();
    o.strategy = j.at("strategy").get<std::string>();
    o.fingerprint = j.at("fingerprint").get<std::uint64_t>();
    o.events = j.at("events").get<std::uint64_t>();
    // Resume files written before probes were counted have none.
    if (j.contains("probes")) o.probes = j.at("probes").get<std::map<std::string, std::uint64_t>>();
    if (j.contains("probes_in_checks")) {
      o.probes_in_checks = j.at("probes_in_checks").get<std::map<std::string, std::uint64_t>>();
    }
    return o;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

namespace {

SeedOutcome run_one(const Scenario& scenario, const SweepOptions& options, std::uint64_t seed) {
  RunOptions o;
  o.seed = seed;
  o.strategy = options.strategy;
  o.mutants = options.mutants;
  o.fixes = options.fixes;
  o.wall_budget_s = options.seed_timeout_s;
  const RunResult r = run_scenario(scenario, o);
  SeedOutcome out;
  out.seed = seed;
  out.verdict = std::string(sim::verdict_kind_name(r.verdict.kind));
  out.property = r.verdict.id;
  out.signature = sim::failure_signature(r.verdict);
  out.known_defect = r.known_defect;
  out.message = r.verdict.message;
  out.details = r.verdict.details;
  out.location = r.verdict.location;
  out.strategy = r.strategy;
  out.probes = r.probes;
  out.probes_in_checks = r.probes_in_checks;
  out.fingerprint = r.fingerprint;
  out.events = r.events;
  return out;
}

[[noreturn]] void worker_main(const Scenario& scenario, const SweepOptions& options,
                              const std::vector<std::uint64_t>& seeds, int fd) {
  // A crash must end the worker by its signal, whatever handlers the parent
  // installed (a test framework's, say), so the parent can record it.
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTERM}) signal(sig, SIG_DFL);
  for (std::uint64_t seed : seeds) {
    if (options.crash_seed_for_testing == seed) std::abort();
    while (options.hang_seed_for_testing == seed) pause();
    const std::string line = seed_outcome_json(run_one(scenario, options, seed)) + "\n";
    std::size_t done = 0;
    while (done < line.size()) {
      const ssize_t n = write(fd, line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) _exit(3);
      done += static_cast<std::size_t>(n);
    }
  }
  _exit(0);
}

struct Worker {
  pid_t pid = -1;
  int fd = -1;
  std::deque<std::uint64_t> pending;  // its seeds not yet reported, in order
  std::string buffer;
  Clock::time_point last_progress;
  bool killed_for_hang = false;
};

// What ended a crashed worker, without numbers that vary: its signal's name.
std::string crash_cause(int status) {
  if (WIFSIGNALED(status)) {
    const char* abbrev = sigabbrev_np(WTERMSIG(status));
    return abbrev != nullptr ? sim::cat("SIG", abbrev) : sim::cat("signal ", WTERMSIG(status));
  }
  if (WIFEXITED(status)) return sim::cat("exit ", WEXITSTATUS(status));
  return "abnormal end";
}

std::string signal_text(int status) {
  if (WIFSIGNALED(status)) return sim::cat("killed by signal ", WTERMSIG(status), " (", strsignal(WTERMSIG(status)), ")");
  if (WIFEXITED(status)) return sim::cat("exited with status ", WEXITSTATUS(status));
  return "ended abnormally";
}

}  // namespace

std::vector<std::uint64_t> shard_seeds(const std::vector<std::uint64_t>& seeds, unsigned k, unsigned n) {
  std::vector<std::uint64_t> out;
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    if (i % n == k - 1) out.push_back(seeds[i]);
  }
  return out;
}

absl::StatusOr<SweepResult> sweep(const Scenario& scenario, const SweepOptions& options) {
  const auto start = Clock::now();
  const unsigned workers = std::max(1u, std::min(options.workers, kMaxWorkers));
  // Chunks small enough to balance the load and to lose little to a crash.
  // With a stop condition, one seed per worker at a time: nothing runs past
  // the seed that meets it but what other workers had already started.
  const std::size_t chunk =
      options.stop_when ? 1 : std::max<std::size_t>(1, std::min<std::size_t>(64, options.seeds.size() / (workers * 8)));
  std::deque<std::vector<std::uint64_t>> queue;
  for (std::size_t i = 0; i < options.seeds.size(); i += chunk) {
    queue.emplace_back(options.seeds.begin() + static_cast<std::ptrdiff_t>(i),
                       options.seeds.begin() + static_cast<std::ptrdiff_t>(std::min(i + chunk, options.seeds.size())));
  }
  std::map<std::uint64_t, SeedOutcome> results;
  std::vector<Worker> running;
  std::uint64_t failures = 0;
  bool stopping = false;
  const auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  const auto record = [&](SeedOutcome o) {
    if (!o.ok()) ++failures;
    if (options.stop_when && options.stop_when(o)) stopping = true;
    results[o.seed] = std::move(o);
    if (options.progress) options.progress(results.size(), options.seeds.size(), failures);
  };

  // A silent worker past this is stuck inside one step.
  const double kill_after_s = options.seed_timeout_s + hang_grace_s(options.seed_timeout_s);
  int interrupted_by = 0;
  const auto interrupted = [&] {
    if (options.interrupt != nullptr && *options.interrupt != 0) interrupted_by = *options.interrupt;
    return interrupted_by != 0;
  };
  for (;;) {
    if (options.time_budget_s > 0 && elapsed() > options.time_budget_s) stopping = true;
    if (interrupted()) stopping = true;
    while (!stopping && running.size() < workers && !queue.empty()) {
      int fds[2];
      if (pipe(fds) != 0) return absl::InternalError(sim::cat("pipe: ", std::strerror(errno)));
      std::fflush(nullptr);
      const pid_t pid = fork();
      if (pid < 0) return absl::InternalError(sim::cat("fork: ", std::strerror(errno)));
      if (pid == 0) {
        // A worker dies of the signals its parent handles (a terminal's Ctrl-C
        // reaches the whole process group); the parent reports what finished.
        std::signal(SIGINT, SIG_DFL);
        std::signal(SIGTERM, SIG_DFL);
        close(fds[0]);
        for (const Worker& w : running) close(w.fd);
        worker_main(scenario, options, queue.front(), fds[1]);
      }
      close(fds[1]);
      Worker w;
      w.pid = pid;
      w.fd = fds[0];
      w.pending.assign(queue.front().begin(), queue.front().end());
      w.last_progress = Clock::now();
      queue.pop_front();
      running.push_back(std::move(w));
    }
    if (running.empty()) break;
    if (stopping) {
      for (Worker& w : running) kill(w.pid, SIGKILL);
    }

    std::vector<pollfd> fds;
    for (const Worker& w : running) fds.push_back(pollfd{w.fd, POLLIN, 0});
    const int ready = poll(fds.data(), fds.size(), 200);
    if (ready < 0 && errno != EINTR) return absl::InternalError(sim::cat("poll: ", std::strerror(errno)));
    for (std::size_t i = running.size(); i-- > 0;) {
      Worker& w = running[i];
      bool ended = false;
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        char buf[65536];
        const ssize_t n = read(w.fd, buf, sizeof buf);
        if (n > 0) {
          w.buffer.append(buf, static_cast<std::size_t>(n));
          w.last_progress = Clock::now();
        } else if (n == 0 || errno != EINTR) {
          ended = true;
        }
        for (std::size_t nl; (nl = w.buffer.find('\n')) != std::string::npos;) {
          auto o = seed_outcome_from_json(w.buffer.substr(0, nl));
          w.buffer.erase(0, nl + 1);
          if (!o || w.pending.empty() || o->seed != w.pending.front()) {
            kill(w.pid, SIGKILL);
            return absl::InternalError("a worker sent a malformed or out-of-order result");
          }
          w.pending.pop_front();
          record(std::move(*o));
        }
      }
      const double quiet = std::chrono::duration<double>(Clock::now() - w.last_progress).count();
      // The run's own watchdog ends a runaway seed at seed_timeout_s with a
      // verdict; a worker still silent after the grace is stuck inside one step.
      if (!ended && !stopping && options.seed_timeout_s > 0 && quiet > kill_after_s && !w.killed_for_hang) {
        kill(w.pid, SIGKILL);
        w.killed_for_hang = true;
      }
      if (!ended) continue;
      int status = 0;
      while (waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
      }
      close(w.fd);
      if (!w.pending.empty() && !stopping && !interrupted()) {
        // The seed it was running is the culprit; the rest go back in the queue.
        SeedOutcome o;
        o.seed = w.pending.front();
        o.verdict = w.killed_for_hang ? "hang" : "crash";
        o.signature = w.killed_for_hang ? "hang" : sim::cat("crash [", crash_cause(status), "]");
        o.message = w.killed_for_hang ? sim::cat("no result within ", static_cast<std::uint64_t>(kill_after_s),
                                                 " s (stuck inside one step: its watchdog never ran); the worker was killed")
                                      : sim::cat("the worker running this seed ", signal_text(status));
        w.pending.pop_front();
        if (!w.pending.empty()) queue.emplace_front(w.pending.begin(), w.pending.end());
        record(std::move(o));
      }
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  SweepResult out;
  for (auto& [seed, o] : results) out.outcomes.push_back(std::move(o));
  out.skipped = options.seeds.size() - out.outcomes.size();
  out.interrupted_by = interrupted_by;
  out.wall_s = elapsed();
  return out;
}

}  // namespace scenarios
