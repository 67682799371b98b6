// explore: many seeds of one scenario, in worker processes.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <tuple>

#include "scenarios/cli/commands.h"
#include "scenarios/cli/resume_file.h"
#include "scenarios/cli/sweep_output.h"
#include "scenarios/image_codec.h"
#include "scenarios/explore.h"
#include "scenarios/repro.h"
#include "sim/str.h"
#include "viz/wait_graph.h"

namespace cli {
namespace {

std::vector<std::uint64_t> seeds_or_throw(const std::string& count, const std::string& range, std::uint32_t fallback) {
  if (!count.empty() && !range.empty()) throw BadInput{"give --seeds or --seed-range, not both"};
  std::vector<std::uint64_t> seeds;
  std::uint64_t first = 0;
  std::uint64_t last = fallback == 0 ? 0 : fallback - 1;
  if (!count.empty()) {
    const std::uint64_t n = seed_or_throw(count, "--seeds");
    if (n == 0 || n > scenarios::kMaxSweepSeeds) throw BadInput{sim::cat("--seeds: expected 1 to ", scenarios::kMaxSweepSeeds, ", got ", n)};
    last = n - 1;
  } else if (!range.empty()) {
    std::tie(first, last) = seed_range_or_throw(range, "--seed-range", scenarios::kMaxSweepSeeds);
  }
  for (std::uint64_t s = first;; ++s) {
    seeds.push_back(s);
    if (s == last) break;
  }
  return seeds;
}

// A progress bar on a terminal; nothing otherwise.
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled, std::string label) : enabled_(enabled && isatty(2)), label_(std::move(label)) {}
  ~ProgressBar() { finish(); }
  void finish() {
    if (shown_) std::cerr << "\r\033[K" << std::flush;
    shown_ = false;
  }
  void update(std::uint64_t done, std::uint64_t total, std::uint64_t failed) {
    if (!enabled_ || total == 0) return;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(kWidth * done / total);
    std::cerr << "\r" << label_ << " [" << std::string(filled, '#') << std::string(kWidth - filled, '.') << "] " << done
              << "/" << total << " seeds, " << failed << " failed" << std::flush;
    shown_ = true;
  }

 private:
  bool enabled_;
  std::string label_;
  bool shown_ = false;
};

// A stream that discards what it is given.
std::ostream& nullout() {
  static std::ostream sink(nullptr);
  return sink;
}

// Writes a repro file for a failing seed by running it again here (runs are
// deterministic); crashed or hung seeds get only their repro line.
void write_repro(const scenarios::Scenario& s, const std::string& text, const scenarios::SeedOutcome& o,
                 const scenarios::SweepOptions& sweep, const std::string& dir, std::ostream& human) {
  if (!o.rerunnable()) return;
  scenarios::RunOptions ro;
  ro.seed = o.seed;
  ro.strategy = sweep.strategy;
  ro.mutants = sweep.mutants;
  ro.fixes = sweep.fixes;
  const scenarios::RunResult r = scenarios::run_scenario(s, ro);
  const std::string path = sim::cat(dir, "/", s.name, ".seed", o.seed, ".repro.json");
  write_file_atomically(path, scenarios::repro_to_json(scenarios::make_repro(s, text, ro, r)));
  human << "     repro file: " << path << "\n";
}

}  // namespace

int cmd_explore(const ExploreCmd& given) {
  ExploreCmd a = given;
  std::optional<ResumeState> resumed;
  if (!a.resume.empty()) {
    // The sweep is the resume file's: its scenario, seeds, strategy, mutants and fixes.
    if (!a.run.file.empty() || !a.seeds.empty() || !a.seed_range.empty() || !a.shard.empty() || !a.sweep.strategy.empty() ||
        !a.sweep.mutants.empty() || !a.sweep.fixes.empty()) {
      throw BadInput{sim::cat("--resume ", a.resume, " fixes the scenario, seeds, shard, strategy, mutants and fixes: "
                              "give none of them with it")};
    }
    resumed = read_resume_file(a.resume);
    a.run.file = resumed->scenario_file;
    a.sweep.strategy = resumed->strategy;
    a.sweep.mutants = resumed->mutants;
    a.sweep.fixes = resumed->fixes;
    a.shard = resumed->shard;
  } else if (a.run.file.empty()) {
    throw BadInput{"explore: give a scenario file, or --resume FILE"};
  }
  scenarios::Scenario s = load_or_throw(a.run.file);
  const std::string text = read_file_or_throw(a.run.file, "scenario file");
  if (resumed && scenarios::content_digest(text) != resumed->scenario_digest) {
    throw BadInput{sim::cat(a.resume, ": ", a.run.file, " changed since the sweep began (digest ",
                            scenarios::content_digest(text), ", the sweep's ", resumed->scenario_digest,
                            "): its finished seeds would not belong to this scenario")};
  }
  scenarios::SweepOptions o;
  std::vector<std::uint64_t> all_seeds;
  if (resumed) {
    all_seeds = resumed->seeds;
  } else {
    all_seeds = seeds_or_throw(a.seeds, a.seed_range, s.seeds);
    if (!a.shard.empty()) {
      const auto [k, n] = shard_or_throw(a.shard);
      all_seeds = scenarios::shard_seeds(all_seeds, k, n);
    }
  }
  std::vector<scenarios::SeedOutcome> carried;  // finished before a resume
  if (resumed) carried = resumed->finished;
  {
    std::set<std::uint64_t> done;
    for (const scenarios::SeedOutcome& c : carried) done.insert(c.seed);
    for (std::uint64_t seed : all_seeds) {
      if (done.count(seed) == 0) o.seeds.push_back(seed);
    }
  }
  o.strategy = strategy_or_throw(a.sweep.strategy);
  if (o.strategy && o.strategy->kind == sim::StrategySpec::Kind::kReplay) {
    throw BadInput{"explore: --strategy replay follows one tape; use replay or run --tape"};
  }
  o.mutants = mutants_or_throw(a.sweep.mutants);
  o.fixes = fixes_or_throw(a.sweep.fixes);
  if (a.sweep.jobs < 1 || a.sweep.jobs > scenarios::kMaxWorkers) throw BadInput{sim::cat("--jobs: expected 1 to ", scenarios::kMaxWorkers)};
  o.workers = a.sweep.jobs;
  if (a.sweep.stop_on_first) o.stop_when = [](const scenarios::SeedOutcome& out) { return !out.ok(); };
  o.time_budget_s = a.sweep.time_budget_s;
  o.seed_timeout_s = a.sweep.wall_budget_s;
  for (const auto& [flag, dir] : {std::pair<std::string, std::string>{"--repro-dir", a.repro_dir}, {"--report-dir", a.sweep.report_dir}}) {
    if (dir.empty()) continue;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (!std::filesystem::is_directory(dir, ec)) throw BadInput{sim::cat(flag, ": cannot create ", dir)};
  }
  o.interrupt = catch_interrupts();
  ProgressBar bar(a.progress, s.name);
  o.progress = [&bar](std::uint64_t done, std::uint64_t total, std::uint64_t failed) { bar.update(done, total, failed); };
  scenarios::SweepResult r = sweep_or_throw(s, o);
  bar.finish();
  if (resumed) {
    // The whole sweep: the seeds that finished before, and those run now.
    r.outcomes.insert(r.outcomes.end(), carried.begin(), carried.end());
    std::sort(r.outcomes.begin(), r.outcomes.end(),
              [](const scenarios::SeedOutcome& x, const scenarios::SeedOutcome& y) { return x.seed < y.seed; });
  }

  std::ostream& human = a.sweep.json ? std::cerr : std::cout;
  std::uint64_t failed = 0;
  std::vector<JunitCase> cases;
  const auto repro_of = [&](const scenarios::SeedOutcome& out) {
    return repro_line(s.path, out.seed,
                      out.strategy.empty() ? (o.strategy ? o.strategy->to_string() : s.strategy.to_string()) : out.strategy,
                      o.mutants, o.fixes);
  };
  for (const scenarios::SeedOutcome& out : r.outcomes) {
    if (a.sweep.json) std::cout << outcome_json(s, out, o, a.shard) << "\n";
    JunitCase c{s.name, sim::cat("seed ", out.seed), "", "", ""};
    if (!out.ok()) {
      ++failed;
      const std::string repro = repro_of(out);
      if (a.each) {
        human << "FAIL seed " << out.seed << ": "
              << (out.known_defect.empty() ? "" : sim::cat("known defect ", out.known_defect, ": ")) << out.signature
              << ": " << out.message << "\n     repro: " << repro << "\n";
      }
      if (!a.repro_dir.empty()) write_repro(s, text, out, o, a.repro_dir, a.each ? human : nullout());
      if (!a.sweep.report_dir.empty() && out.rerunnable()) {
        scenarios::RunOptions ro;
        ro.seed = out.seed;
        ro.strategy = o.strategy;
        ro.mutants = o.mutants;
        ro.fixes = o.fixes;
        const std::string path = sim::cat(a.sweep.report_dir, "/", s.name, ".seed", out.seed, ".html");
        write_report(s, text, ro, repro, "", path);
        if (a.each) human << "     report: " << path << "\n";
      }
      c.failure_type = out.known_defect.empty() ? out.signature : sim::cat("known defect ", out.known_defect, ": ", out.signature);
      c.failure_message = out.message;
      c.failure_text = repro;
    }
    cases.push_back(std::move(c));
  }
  if (!a.each) {
    for (const FailureGroup& g : group_failures(r.outcomes)) {
      human << "FAIL " << (g.first.known_defect.empty() ? "" : sim::cat("known defect ", g.first.known_defect, ": "))
            << g.signature << ": " << g.seeds.size() << " seed" << (g.seeds.size() == 1 ? "" : "s")
            << ", first seed " << g.seeds.front() << ": " << g.first.message << "\n     seeds: " << seed_list(g.seeds)
            << "\n     repro: " << repro_of(g.first) << "\n";
      if (!a.repro_dir.empty() && g.first.rerunnable()) {
        human << "     repro files: " << a.repro_dir << "/" << s.name << ".seed*.repro.json\n";
      }
      if (!a.sweep.report_dir.empty() && g.first.rerunnable()) {
        human << "     reports: " << a.sweep.report_dir << "/" << s.name << ".seed*.html\n";
      }
    }
  }
  const double rate = r.wall_s > 0 ? static_cast<double>(r.outcomes.size()) / r.wall_s : 0;
  const std::size_t signatures = group_failures(r.outcomes).size();
  human << "explored " << r.outcomes.size() << " seeds of " << s.name << " with " << o.workers << " worker"
        << (o.workers == 1 ? "" : "s") << " in " << sim::cat(static_cast<std::uint64_t>(r.wall_s * 1000)) << " ms ("
        << static_cast<std::uint64_t>(rate) << " seeds/s): " << r.outcomes.size() - failed << " held, " << failed
        << " failed" << (failed > 0 ? sim::cat(" (", signatures, " signature", signatures == 1 ? "" : "s", ")") : std::string());
  if (r.skipped > 0) {
    human << ", " << r.skipped << " not run ("
          << (r.interrupted_by != 0 ? sim::cat("interrupted by ", signal_name(r.interrupted_by))
              : a.sweep.stop_on_first     ? std::string("stopped at the first failure")
                                    : std::string("time budget"))
          << ")";
  }
  human << "\n";
  if (r.skipped > 0) {
    // Not every seed ran: say which did, and leave what it takes to run the rest.
    ResumeState st;
    st.scenario_file = absolute_path(a.run.file);
    st.scenario_digest = scenarios::content_digest(text);
    st.seeds = all_seeds;
    st.strategy = a.sweep.strategy;
    st.mutants = a.sweep.mutants;
    st.fixes = a.sweep.fixes;
    st.shard = a.shard;
    st.finished = r.outcomes;
    const std::string path =
        !a.resume_out.empty() ? a.resume_out : !a.resume.empty() ? a.resume : sim::cat(s.name, ".resume.json");
    write_resume_file(path, st);
    std::vector<std::uint64_t> finished;
    for (const scenarios::SeedOutcome& out : r.outcomes) finished.push_back(out.seed);
    human << "finished seeds: " << seed_ranges(finished) << "\nresume: blksim explore --resume "
          << shell_quote(absolute_path(path)) << (a.sweep.jobs > 1 ? sim::cat(" -j ", a.sweep.jobs) : std::string()) << "\n";
  }
  if (!a.sweep.junit.empty()) write_file_atomically(a.sweep.junit, junit_document(s.name, cases));
  if (r.interrupted_by != 0) return 128 + r.interrupted_by;
  return failed == 0 ? kExitPass : kExitFail;
}


}  // namespace cli
