// explore and suite: many seeds, in worker processes.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "scenarios/cli/commands.h"
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
    const std::size_t dots = range.find("..");
    if (dots == std::string::npos) throw BadInput{sim::cat("--seed-range: expected A..B (inclusive), got '", range, "'")};
    first = seed_or_throw(range.substr(0, dots), "--seed-range");
    last = seed_or_throw(range.substr(dots + 2), "--seed-range");
    if (last < first) throw BadInput{sim::cat("--seed-range: ", range, " is empty (B is below A)")};
    if (last - first >= scenarios::kMaxSweepSeeds) throw BadInput{sim::cat("--seed-range: at most ", scenarios::kMaxSweepSeeds, " seeds")};
  }
  for (std::uint64_t s = first;; ++s) {
    seeds.push_back(s);
    if (s == last) break;
  }
  return seeds;
}

std::pair<unsigned, unsigned> shard_or_throw(const std::string& text) {
  const std::size_t slash = text.find('/');
  const auto bad = [&] { return BadInput{sim::cat("--shard: expected K/N with 1 <= K <= N, got '", text, "'")}; };
  if (slash == std::string::npos) throw bad();
  std::uint64_t k = 0, n = 0;
  try {
    k = seed_or_throw(text.substr(0, slash), "--shard");
    n = seed_or_throw(text.substr(slash + 1), "--shard");
  } catch (const BadInput&) {
    throw bad();
  }
  if (k < 1 || n < 1 || k > n || n > 1'000'000) throw bad();
  return {static_cast<unsigned>(k), static_cast<unsigned>(n)};
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

std::string outcome_json(const scenarios::Scenario& s, const scenarios::SeedOutcome& o,
                         const std::vector<engine::Mutant>& mutants) {
  nlohmann::ordered_json j;
  j["scenario"] = s.name;
  j["file"] = s.path;
  j["seed"] = o.seed;
  j["strategy"] = o.strategy;
  j["verdict"] = o.verdict;
  if (!o.ok()) {
    j["property"] = o.property;
    j["message"] = o.message;
    j["repro"] = repro_line(s.path, o.seed, o.strategy.empty() ? s.strategy.to_string() : o.strategy, mutants);
  }
  j["events"] = o.events;
  j["fingerprint"] = sim::format_fingerprint(o.fingerprint);
  return j.dump();
}

std::string failure_label(const scenarios::SeedOutcome& o) {
  return o.property.empty() ? o.verdict : sim::cat(o.verdict, ":", o.property);
}

scenarios::SweepResult sweep_or_throw(const scenarios::Scenario& s, const scenarios::SweepOptions& o) {
  auto r = scenarios::sweep(s, o);
  if (!r.ok()) throw InternalError{std::string(r.status().message())};
  return *std::move(r);
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
  const scenarios::RunResult r = scenarios::run_scenario(s, ro);
  const std::string path = sim::cat(dir, "/", s.name, ".seed", o.seed, ".repro.json");
  write_file_atomically(path, scenarios::repro_to_json(scenarios::make_repro(s, text, ro, r)));
  human << "     repro file: " << path << "\n";
}

}  // namespace

int cmd_explore(const ExploreCmd& a) {
  scenarios::Scenario s = load_or_throw(a.run.file);
  const std::string text = read_file_or_throw(a.run.file, "scenario file");
  scenarios::SweepOptions o;
  o.seeds = seeds_or_throw(a.seeds, a.seed_range, s.seeds);
  if (!a.shard.empty()) {
    const auto [k, n] = shard_or_throw(a.shard);
    o.seeds = scenarios::shard_seeds(o.seeds, k, n);
  }
  o.strategy = strategy_or_throw(a.run.strategy);
  if (o.strategy && o.strategy->kind == sim::StrategySpec::Kind::kReplay) {
    throw BadInput{"explore: --strategy replay follows one tape; use replay or run --tape"};
  }
  o.mutants = mutants_or_throw(a.run.mutants);
  if (a.jobs < 1 || a.jobs > scenarios::kMaxWorkers) throw BadInput{sim::cat("--jobs: expected 1 to ", scenarios::kMaxWorkers)};
  o.workers = a.jobs;
  o.stop_on_first = a.stop_on_first;
  o.time_budget_s = a.time_budget_s;
  o.seed_timeout_s = a.seed_timeout_s;
  for (const auto& [flag, dir] : {std::pair<std::string, std::string>{"--repro-dir", a.repro_dir}, {"--report-dir", a.report_dir}}) {
    if (dir.empty()) continue;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (!std::filesystem::is_directory(dir, ec)) throw BadInput{sim::cat(flag, ": cannot create ", dir)};
  }
  o.interrupt = catch_interrupts();
  ProgressBar bar(a.progress, s.name);
  o.progress = [&bar](std::uint64_t done, std::uint64_t total, std::uint64_t failed) { bar.update(done, total, failed); };
  const scenarios::SweepResult r = sweep_or_throw(s, o);
  bar.finish();

  std::ostream& human = a.json ? std::cerr : std::cout;
  std::uint64_t failed = 0;
  std::vector<JunitCase> cases;
  for (const scenarios::SeedOutcome& out : r.outcomes) {
    if (a.json) std::cout << outcome_json(s, out, o.mutants) << "\n";
    JunitCase c{s.name, sim::cat("seed ", out.seed), "", "", ""};
    if (!out.ok()) {
      ++failed;
      const std::string repro = repro_line(s.path, out.seed, out.strategy.empty() ? (o.strategy ? o.strategy->to_string() : s.strategy.to_string()) : out.strategy, o.mutants);
      human << "FAIL seed " << out.seed << ": " << failure_label(out) << ": " << out.message << "\n     repro: " << repro << "\n";
      if (!a.repro_dir.empty()) write_repro(s, text, out, o, a.repro_dir, human);
      if (!a.report_dir.empty() && out.rerunnable()) {
        scenarios::RunOptions ro;
        ro.seed = out.seed;
        ro.strategy = o.strategy;
        ro.mutants = o.mutants;
        const std::string path = sim::cat(a.report_dir, "/", s.name, ".seed", out.seed, ".html");
        write_report(s, text, ro, repro, "", path);
        human << "     report: " << path << "\n";
      }
      c.failure_type = failure_label(out);
      c.failure_message = out.message;
      c.failure_text = repro;
    }
    cases.push_back(std::move(c));
  }
  const double rate = r.wall_s > 0 ? static_cast<double>(r.outcomes.size()) / r.wall_s : 0;
  human << "explored " << r.outcomes.size() << " seeds of " << s.name << " with " << o.workers << " worker"
        << (o.workers == 1 ? "" : "s") << " in " << sim::cat(static_cast<std::uint64_t>(r.wall_s * 1000)) << " ms ("
        << static_cast<std::uint64_t>(rate) << " seeds/s): " << r.outcomes.size() - failed << " held, " << failed
        << " failed";
  if (r.skipped > 0) {
    human << ", " << r.skipped << " not run ("
          << (r.interrupted_by != 0 ? sim::cat("interrupted by ", signal_name(r.interrupted_by))
              : a.stop_on_first     ? std::string("stopped at the first failure")
                                    : std::string("time budget"))
          << ")";
  }
  human << "\n";
  if (!a.junit.empty()) write_file_atomically(a.junit, junit_document(s.name, cases));
  if (r.interrupted_by != 0) return 128 + r.interrupted_by;
  return failed == 0 ? kExitPass : kExitFail;
}

namespace {

// The lines of a baseline or golden file: `words` whitespace-separated fields
// each, '#' comments and empty lines skipped; a line of another shape is bad input.
std::vector<std::vector<std::string>> read_table(const std::string& path, std::string_view what, std::size_t words,
                                                 std::string_view expected) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(read_file_or_throw(path, what));
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::vector<std::string> row;
    for (std::string field; fields >> field;) row.push_back(field);
    if (row.size() != words) throw BadInput{sim::cat(path, ":", number, ": expected ", expected)};
    seed_or_throw(row[1], sim::cat(path, ":", number, ": seed"));
    rows.push_back(std::move(row));
  }
  return rows;
}

// Known failures: "SCENARIO SEED VERDICT[:PROPERTY]" per line.
std::set<std::string> read_baseline(const std::string& path) {
  std::set<std::string> known;
  for (const auto& row : read_table(path, "baseline file", 3, "SCENARIO SEED VERDICT[:PROPERTY]")) {
    known.insert(sim::cat(row[0], " ", row[1], " ", row[2]));
  }
  return known;
}

// Golden fingerprints: "SCENARIO SEED FINGERPRINT" per line; a missing file is empty.
std::map<std::string, std::string> read_golden(const std::string& path) {
  std::map<std::string, std::string> golden;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return golden;
  for (const auto& row : read_table(path, "golden file", 3, "SCENARIO SEED FINGERPRINT")) {
    golden[sim::cat(row[0], " ", row[1])] = row[2];
  }
  return golden;
}

}  // namespace

int cmd_suite(const SuiteCmd& a) {
  std::ostream& human = a.json ? std::cerr : std::cout;  // --json keeps stdout for JSON Lines
  const std::vector<std::string> files = scenario_files_in(a.dir);
  std::vector<scenarios::Scenario> loaded;
  std::vector<std::string> texts;
  for (const std::string& f : files) {  // all-or-nothing: bad input first
    loaded.push_back(load_or_throw(f));
    texts.push_back(read_file_or_throw(f, "scenario file"));
  }
  const std::set<std::string> known = a.baseline.empty() ? std::set<std::string>{} : read_baseline(a.baseline);
  if (a.update_golden && a.golden.empty()) throw BadInput{"--update-golden needs --golden FILE"};
  const std::map<std::string, std::string> golden = a.golden.empty() ? std::map<std::string, std::string>{} : read_golden(a.golden);
  if (a.jobs < 1 || a.jobs > scenarios::kMaxWorkers) throw BadInput{sim::cat("--jobs: expected 1 to ", scenarios::kMaxWorkers)};
  const std::vector<engine::Mutant> mutants = mutants_or_throw(a.mutants);
  for (const std::string& dir : {a.graph_dir, a.report_dir}) {
    if (dir.empty()) continue;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (!std::filesystem::is_directory(dir, ec)) throw BadInput{sim::cat(dir, ": cannot create the directory")};
  }

  std::uint64_t runs = 0, all_failures = 0, new_failures = 0, known_failures = 0, expected_failures = 0;
  std::uint64_t unexpected_passes = 0, changed = 0;
  std::set<std::string> seen_known;
  std::string new_baseline = "# blksim known failures: SCENARIO SEED VERDICT[:PROPERTY]\n";
  std::string new_golden = "# blksim golden fingerprints: SCENARIO SEED FINGERPRINT\n";
  std::vector<JunitCase> cases;
  std::vector<std::string> golden_changes;
  const volatile std::sig_atomic_t* interrupt = catch_interrupts();
  int interrupted_by = 0;
  std::size_t scenarios_run = 0;
  for (std::size_t i = 0; i < loaded.size() && interrupted_by == 0; ++i) {
    const scenarios::Scenario& s = loaded[i];
    scenarios::SweepOptions o;
    o.interrupt = interrupt;
    const std::uint32_t seeds = a.seeds != 0 ? a.seeds : s.seeds;
    for (std::uint64_t seed = 0; seed < seeds; ++seed) o.seeds.push_back(seed);
    o.workers = a.jobs;
    o.mutants = mutants;
    const scenarios::SweepResult r = sweep_or_throw(s, o);
    interrupted_by = r.interrupted_by;
    ++scenarios_run;
    std::uint64_t failed = 0, fresh = 0;
    std::optional<scenarios::SeedOutcome> first_new;
    std::optional<std::uint64_t> first_failure;
    for (const scenarios::SeedOutcome& out : r.outcomes) {
      ++runs;
      if (a.json) std::cout << outcome_json(s, out, mutants) << "\n";
      const std::string key = sim::cat(s.name, " ", out.seed);
      const std::string fp = sim::format_fingerprint(out.fingerprint);
      new_golden += sim::cat(key, " ", fp, "\n");
      if (auto g = golden.find(key); g != golden.end() && g->second != fp) {
        ++changed;
        golden_changes.push_back(sim::cat(key, ": ", g->second, " -> ", fp));
      }
      JunitCase c{s.name, sim::cat("seed ", out.seed), "", "", ""};
      if (!out.ok()) {
        ++failed;
        ++all_failures;
        if (s.expect_fail) ++expected_failures;
        if (!first_failure) first_failure = out.seed;
        if (!s.expect_fail) new_baseline += sim::cat(key, " ", failure_label(out), "\n");
      }
      if (s.expect_fail) {
        if (out.ok()) {
          ++unexpected_passes;
          c.failure_type = "unexpected-pass";
          c.failure_message = "an expected-fail scenario held every property";
        }
      } else if (!out.ok()) {
        const std::string label = sim::cat(key, " ", failure_label(out));
        if (known.count(label) != 0) {
          ++known_failures;
          seen_known.insert(label);
        } else {
          ++fresh;
          if (!first_new) first_new = out;
          c.failure_type = failure_label(out);
          c.failure_message = out.message;
          c.failure_text = repro_line(s.path, out.seed, out.strategy, mutants);
        }
      }
      cases.push_back(std::move(c));
    }
    new_failures += fresh;
    const double rate = r.wall_s > 0 ? static_cast<double>(r.outcomes.size()) / r.wall_s : 0;
    const char* status = s.expect_fail ? (failed == r.outcomes.size() ? "XFAIL" : "FAIL ") : (fresh == 0 ? "PASS " : "FAIL ");
    human << status << " " << s.name << ": " << r.outcomes.size() - failed << "/" << r.outcomes.size() << " seeds held";
    if (s.expect_fail) human << " (expected to fail)";
    if (!s.expect_fail && failed > fresh) human << ", " << failed - fresh << " known failures";
    human << ", strategy " << s.strategy.to_string() << ", " << static_cast<std::uint64_t>(rate) << " seeds/s\n";
    if (!a.report_dir.empty()) {
      for (const scenarios::SeedOutcome& out : r.outcomes) {
        const std::string label = sim::cat(s.name, " ", out.seed, " ", failure_label(out));
        if (out.ok() || s.expect_fail || known.count(label) != 0 || !out.rerunnable()) continue;
        scenarios::RunOptions ro;
        ro.seed = out.seed;
        ro.mutants = mutants;
        const std::string path = sim::cat(a.report_dir, "/", s.name, ".seed", out.seed, ".html");
        write_report(s, texts[i], ro, repro_line(s.path, out.seed, out.strategy, mutants), "", path);
      }
    }
    if (first_new) {
      human << "      first new failure: seed " << first_new->seed << ": " << failure_label(*first_new) << ": "
            << first_new->message << "\n      repro: " << repro_line(s.path, first_new->seed, first_new->strategy, mutants)
            << "\n";
    }
    if (!a.graph_dir.empty()) {
      scenarios::RunOptions ro;
      ro.seed = first_failure.value_or(0);
      ro.mutants = mutants;
      auto graph = std::make_shared<viz::WaitGraph>();
      ro.observers.push_back([graph](const sim::Trace& t, const sim::TraceEvent& e) { graph->observe(t, e); });
      const scenarios::RunResult graphed = scenarios::run_scenario(s, ro);
      const std::string out = sim::cat(a.graph_dir, "/", s.name, ".svg");
      viz::DrawOptions draw;
      if (graphed.verdict.kind == sim::Verdict::Kind::kDeadlock) draw.view = viz::View::kDeadlock;
      auto rendered = graph->render("svg", draw);
      if (!rendered.ok()) throw InternalError{sim::cat(out, ": ", rendered.status().message())};
      write_file_or_throw(out, *rendered);
      human << "      wait graph (seed " << ro.seed << "): " << out << "\n";
    }
  }
  for (const std::string& k : known) {
    if (interrupted_by != 0) break;  // not every seed ran
    if (seen_known.count(k) == 0) human << "note: known failure no longer seen (fixed? update the baseline): " << k << "\n";
  }
  if (!golden_changes.empty()) {
    human << "behaviour changed for " << changed << " runs (review, then --update-golden):\n";
    for (std::size_t i = 0; i < golden_changes.size() && i < 20; ++i) human << "      " << golden_changes[i] << "\n";
  }
  // A partial run must not become a baseline or golden file.
  if (interrupted_by == 0 && !a.write_baseline.empty()) write_file_atomically(a.write_baseline, new_baseline);
  if (interrupted_by == 0 && a.update_golden) write_file_atomically(a.golden, new_golden);
  if (interrupted_by != 0) {
    human << "interrupted by " << signal_name(interrupted_by) << " during scenario " << scenarios_run << " of "
          << loaded.size() << ": what follows covers the runs that finished"
          << (a.write_baseline.empty() && !a.update_golden ? "" : "; the baseline and golden files were left as they were")
          << "\n";
  }
  const bool golden_ok = a.update_golden || changed == 0;
  human << "summary: " << loaded.size() << " scenarios, " << runs << " runs, " << runs - all_failures << " held, "
        << all_failures << " failed (" << new_failures << " new, " << known_failures << " known, " << expected_failures
        << " expected), " << unexpected_passes << " unexpected passes"
        << (a.golden.empty() ? "" : sim::cat(", ", changed, " golden fingerprints changed")) << "\n";
  if (!a.junit.empty()) write_file_atomically(a.junit, junit_document(a.dir, cases));
  if (interrupted_by != 0) return 128 + interrupted_by;
  return new_failures == 0 && unexpected_passes == 0 && golden_ok ? kExitPass : kExitFail;
}

}  // namespace cli
