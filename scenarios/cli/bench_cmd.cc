// blksim bench: the workload of `qemu-img bench -c N -d D -s S [-w]
// --image-opts driver=null-co,size=1G` (N sequential requests of S bytes, D in
// flight, reads or writes) through the engine and the null driver inside the
// simulator, as requests per CPU-second; then the peak RSS, the memory a
// request in flight costs, and seeds per CPU-second of each library scenario.
// A benchmark: it prints figures and judges nothing but the runs' verdicts.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <ctime>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "scenarios/cli/commands.h"
#include "scenarios/runner.h"
#include "sim/str.h"

namespace cli {
namespace {

// qemu-img bench uses a 1 GiB null-co node; scenario jobs may address at most
// 256 MiB (the final-image check reads a node whole), so offsets wrap there.
// The null driver's cost does not depend on the offset.
constexpr std::uint64_t kImageBytes = 1ULL << 28;

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// The peak RSS of `fn` run in a child process. A process's high-water mark
// never comes down, so memory measured in this one would hide under the peaks
// of earlier figures; each child starts from the same image instead.
template <typename Fn>
long child_peak_rss_kib(Fn&& fn) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw InternalError{"bench: fork failed"};
  if (pid == 0) {
    int rc = 0;
    try {
      fn();
    } catch (...) {
      rc = 3;
    }
    _exit(rc);
  }
  int status = 0;
  rusage u{};
  while (wait4(pid, &status, 0, &u) < 0) {
    if (errno != EINTR) throw InternalError{"bench: wait4 failed"};
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw InternalError{"bench: the memory probe's run failed"};
  return u.ru_maxrss;
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// One job of `count` sequential aio requests on a null node (or a mem node when
// writes are checked by the data oracle: null drops what it is given; without
// a volatile cache, as null-co, so it keeps no copy of each write). Reads
// leave the buffer alone as QEMU 7.2's null-co does by default (read-zeroes
// off) unless the data oracle checks them, which needs defined content.
// With `jobs` > 1, that many jobs share the requests (a job's queue depth is
// at most 1024).
scenarios::Scenario bench_scenario(const BenchCmd& a, std::uint64_t count, std::uint32_t depth, std::uint64_t latency_ns,
                                   bool data_oracle, std::uint32_t jobs = 1) {
  const bool mem = data_oracle && a.write;
  const std::string node =
      mem ? sim::cat("driver = \"mem\"\nsize = ", kImageBytes, "\nlatency_ns = [", latency_ns, ", ", latency_ns,
                     "]\nwrite_cache = false\n")
          : sim::cat("driver = \"null\"\nsize = ", kImageBytes, "\nlatency_ns = ", latency_ns,
                     "\nread_zeroes = ", data_oracle ? "true" : "false", "\n");
  const std::string text =
      sim::cat("[scenario]\nname = \"bench\"\nseeds = 1\nstrategy = \"fifo\"\nstep_budget = ", scenarios::kMaxStepBudget,
               "\noracles = [", data_oracle ? "\"data\"" : "", "]\n\n[[node]]\nname = \"disk\"\n", node,
               "\n[[job]]\nname = \"bench\"\nnode = \"disk\"\nqueue_depth = ", depth,
               "\ncommands = [\"aio_read 0 512\"]\n");
  absl::StatusOr<scenarios::Scenario> s = scenarios::parse_scenario(text, "<bench>");
  if (!s.ok()) throw InternalError{sim::cat("bench scenario: ", s.status().message())};
  scenarios::Command cmd = s->jobs[0].commands[0];
  cmd.op = a.write ? scenarios::Command::Op::kWrite : scenarios::Command::Op::kRead;
  cmd.pattern = a.write ? std::optional<std::uint8_t>(0x5a) : std::nullopt;
  cmd.bytes = a.size;
  const scenarios::JobSpec first = s->jobs[0];
  s->jobs.clear();
  for (std::uint32_t j = 0; j < jobs; ++j) {
    scenarios::JobSpec job = first;
    job.name = sim::cat("bench", j);
    const std::uint64_t begin = count * j / jobs;
    const std::uint64_t end = count * (j + 1) / jobs;
    job.commands.assign(end - begin, cmd);
    for (std::uint64_t i = begin; i < end; ++i) job.commands[i - begin].offset = (i * a.size) % (kImageBytes - a.size + 1);
    s->jobs.push_back(std::move(job));
  }
  return *std::move(s);
}

// Requests per CPU-second of one run; the run must pass.
double measure(const scenarios::Scenario& s, std::uint64_t count) {
  scenarios::RunOptions options;
  const double start = cpu_seconds();
  const scenarios::RunResult r = scenarios::run_scenario(s, options);
  const double cpu = cpu_seconds() - start;
  if (!r.verdict.ok()) throw InternalError{sim::cat("bench run failed: ", r.verdict.message)};
  if (r.requests != count) throw InternalError{sim::cat("bench ran ", r.requests, " of ", count, " requests")};
  return static_cast<double>(count) / cpu;
}


// Each scenario's default seeds, in this process on one core: seeds per
// CPU-second (median of `reps`), the events a seed takes, and events per second.
void bench_scenarios(const std::string& dir, int reps) {
  const std::vector<std::string> files = scenario_files_in(dir);
  std::vector<scenarios::Scenario> loaded;
  for (const std::string& f : files) loaded.push_back(load_or_throw(f));
  std::cout << "seeds per CPU-second of each scenario in " << dir << " (default seeds, in-process, median of " << reps
            << "):\n";
  char line[160];
  std::snprintf(line, sizeof line, "  %-24s %6s %10s %12s %12s\n", "scenario", "seeds", "seeds/s", "events/seed", "events/s");
  std::cout << line;
  double total = 0;
  for (const scenarios::Scenario& s : loaded) {
    std::uint64_t events = 0;
    std::vector<double> rates;
    for (int i = 0; i < reps; ++i) {
      events = 0;
      const double start = cpu_seconds();
      for (std::uint64_t seed = 0; seed < s.seeds; ++seed) {
        scenarios::RunOptions o;
        o.seed = seed;
        events += scenarios::run_scenario(s, o).events;
      }
      rates.push_back(static_cast<double>(s.seeds) / std::max(cpu_seconds() - start, 1e-9));
    }
    std::sort(rates.begin(), rates.end());
    const double rate = rates[rates.size() / 2];
    const double per_seed = static_cast<double>(events) / s.seeds;
    total += s.seeds / rate;
    std::snprintf(line, sizeof line, "  %-24s %6u %10.0f %12.0f %12.0f\n", s.name.c_str(), s.seeds, rate, per_seed,
                  rate * per_seed);
    std::cout << line;
  }
  std::cout << "  all default seeds: " << fixed(total, 2) << " s of CPU\n";
}

}  // namespace

int cmd_bench(const BenchCmd& a) {
  if (a.size == 0 || a.size > (1u << 20) || a.size % 512 != 0) throw BadInput{"-s: expected a multiple of 512 up to 1M"};
  if (a.depth == 0 || a.depth > 1024) throw BadInput{"-d: expected 1 to 1024"};
  if (a.count == 0 || a.count > 10'000'000) throw BadInput{"-c: expected 1 to 10000000"};
  if (a.in_flight > 1'000'000) throw BadInput{"--in-flight: expected 0 to 1000000"};
  if (a.reps < 1 || a.reps > 21) throw BadInput{"--reps: expected 1 to 21"};
  if (a.scenarios != "none") scenario_files_in(a.scenarios);  // bad input before the long part
  std::cout << "blksim bench: " << a.count << " " << (a.write ? "write" : "read") << " requests of " << a.size
            << " bytes, " << a.depth << " in flight, null driver, 256 MiB (median of " << a.reps << ", CPU time)\n";
  for (const bool data : {false, true}) {
    if (a.oracles != "both" && (a.oracles == "data") != data) continue;
    const scenarios::Scenario s = bench_scenario(a, a.count, a.depth, 0, data);
    std::vector<double> rates;
    for (int i = 0; i < a.reps; ++i) rates.push_back(measure(s, a.count));
    std::sort(rates.begin(), rates.end());
    std::cout << "  requests per CPU-second, " << (data ? "data oracle on " : "oracles off    ") << "  "
              << fixed(rates[rates.size() / 2], 0) << (!data ? "" : a.write ? "   (mem node: null drops writes)" : "   (read-zeroes on: the oracle needs defined content)") << "\n";
  }
  std::cout << "  peak RSS " << peak_rss_kib() / 1024 << " MiB\n";
  if (a.in_flight > 0) {
    // Every request in flight at once: a long latency and a queue as deep as
    // the request count. The peak of that run less the peak of the same run
    // with one request is what the requests cost together (engine state,
    // coroutine frames, data buffers, the scenario's commands, the trace).
    constexpr std::uint32_t kDepth = 1000;
    const auto jobs = static_cast<std::uint32_t>((a.in_flight + kDepth - 1) / kDepth);
    const scenarios::Scenario many = bench_scenario(a, a.in_flight, kDepth, 1'000'000'000, false, jobs);
    const scenarios::Scenario one = bench_scenario(a, 1, kDepth, 1'000'000'000, false, 1);
    const long base = child_peak_rss_kib([&] { measure(one, 1); });
    const long peak = child_peak_rss_kib([&] { measure(many, a.in_flight); });
    const double per = static_cast<double>(peak - base) * 1024.0 / static_cast<double>(a.in_flight);
    std::cout << "  " << a.in_flight << " requests in flight at once: " << fixed(per, 0)
              << " bytes per request (peak RSS over a one-request run, trace included), " << fixed(per - a.size, 0)
              << " beyond its " << a.size << "-byte data buffer; peak RSS " << peak / 1024 << " MiB\n";
  }
  if (a.scenarios != "none") bench_scenarios(a.scenarios, a.reps);
  return kExitPass;
}

}  // namespace cli
