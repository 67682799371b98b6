// blksim-bench: figures for the runtime. A benchmark, not a test: it prints
// numbers and asserts nothing about them.
//
//   coroutine switch   resume + suspend of a Task chain, bare and through the World
//   scheduler events   bottom halves dispatched per CPU-second
//   skeleton requests  4 KiB aio requests through engine + mem driver per CPU-second
// (Seeds per second of each library scenario: blksim bench.)
#include <algorithm>
#include <filesystem>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "scenarios/runner.h"
#include "scenarios/scenario.h"
#include "sim/world.h"

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Median of `reps` measurements of `fn` (each returns a per-unit figure).
template <typename Fn>
double median_of(int reps, Fn&& fn) {
  std::vector<double> v;
  for (int i = 0; i < reps; ++i) v.push_back(fn());
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}


// Bare: a coroutine suspending with suspend_always and resumed by handle.
sim::Task<void> bare_loop(long n, long& count) {
  for (long i = 0; i < n; ++i) {
    ++count;
    co_await std::suspend_always{};
  }
}

// Through the World: suspend with no recorded wait, woken from outside.
sim::Task<void> world_loop(long n, long& count) {
  sim::World& w = sim::World::current();
  for (long i = 0; i < n; ++i) {
    ++count;
    co_await w.suspend(sim::WaitInfo{});
  }
}

double bench_bare_switch(long n) {
  long count = 0;
  sim::Task<void> t = bare_loop(n, count);
  double start = cpu_seconds();
  while (!t.done()) t.handle().resume();
  return (cpu_seconds() - start) * 1e9 / static_cast<double>(n);
}

double bench_world_switch(long n) {
  sim::World world;
  long count = 0;
  sim::Coroutine& co = world.spawn(world.main_context(), "bench", world_loop(n, count));
  world.poll(world.main_context(), false);  // first resume
  double start = cpu_seconds();
  for (long i = 0; i < n; ++i) world.wake(co);
  return (cpu_seconds() - start) * 1e9 / static_cast<double>(n);
}

double bench_scheduler(long n) {
  sim::World world;
  long left = n;
  auto& ctx = world.main_context();
  // A few bottom halves keep rescheduling themselves: every dispatch is a choice
  // among them under fifo.
  std::function<void()> bh = [&] {
    if (--left > 0) ctx.bh_schedule("bench", bh);
  };
  for (int i = 0; i < 4; ++i) ctx.bh_schedule("bench", bh);
  double start = cpu_seconds();
  world.run();
  double secs = cpu_seconds() - start;
  return static_cast<double>(world.steps()) / secs;
}

double bench_requests(std::uint32_t commands, std::uint64_t* requests_out) {
  std::string cmds;
  for (std::uint32_t i = 0; i < commands; ++i) {
    cmds += (i % 2 == 0 ? "\"aio_write -P 0x5a " : "\"aio_read ") + std::to_string((i * 7919u % 256u) * 4096u) +
            " 4k\",";
  }
  std::string text = "[scenario]\nname = \"bench\"\nstrategy = \"fifo\"\nstep_budget = 100000000\n"
                     "[[node]]\nname = \"d\"\nsize = \"1M\"\nrequest_alignment = 4096\nlatency_ns = [1000, 5000]\n"
                     "[[job]]\nname = \"j\"\nnode = \"d\"\nqueue_depth = 64\ncommands = [" +
                     cmds + "]\n";
  auto s = scenarios::parse_scenario(text, "bench.toml");
  if (!s.ok()) {
    std::fprintf(stderr, "bench scenario: %s\n", std::string(s.status().message()).c_str());
    return 0;
  }
  scenarios::RunOptions o;
  double start = cpu_seconds();
  scenarios::RunResult r = scenarios::run_scenario(*s, o);
  double secs = cpu_seconds() - start;
  *requests_out = r.requests;
  return static_cast<double>(r.requests) / secs;
}

}  // namespace

int main(int argc, char** argv) {
  constexpr int kReps = 5;
  if (argc == 2 && std::string(argv[1]) == "world-switch") {  // for profiling one figure
    std::printf("World wake + suspend: %.2f ns\n", median_of(kReps, [] { return bench_world_switch(5'000'000); }));
    return 0;
  }
  double bare = median_of(kReps, [] { return bench_bare_switch(10'000'000); });
  double world = median_of(kReps, [] { return bench_world_switch(2'000'000); });
  double events = median_of(kReps, [] { return bench_scheduler(2'000'000); });
  std::uint64_t requests = 0;
  double reqs = median_of(kReps, [&] { return bench_requests(20000, &requests); });
  std::printf("blksim-bench (median of %d, CPU time)\n", kReps);
  std::printf("  coroutine switch, bare Task (resume + suspend)      %8.2f ns\n", bare);
  std::printf("  coroutine switch, World wake + suspend (traced)     %8.2f ns\n", world);
  std::printf("  scheduler events per second (bottom halves)         %8.2f M\n", events / 1e6);
  std::printf("  skeleton requests per second (4k, qd 64, %llu reqs) %8.0f\n",
              static_cast<unsigned long long>(requests), reqs);
  return 0;
}
