// suite: every scenario of a directory with its default seeds, judged against a
// baseline of known failures (by seed, or by known defect of the reference)
// and, optionally, golden fingerprints. A scenario whose failures are known
// defects runs a second time with their fixes, so the defect does not hide
// what comes after it.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "scenarios/cli/commands.h"
#include "sim/probe.h"
#include "scenarios/cli/resume_file.h"
#include "scenarios/cli/sweep_output.h"
#include "scenarios/image_codec.h"
#include "scenarios/known_defects.h"
#include "sim/str.h"
#include "viz/wait_graph.h"

namespace cli {
namespace {

// Known failures: "SCENARIO SEED VERDICT[:PROPERTY]" lines (one run each) and
// "defect NAME" lines (every failure labelled with that known defect).
struct Baseline {
  std::set<std::string> runs;     // "SCENARIO SEED LABEL"
  std::set<std::string> defects;  // names
};

std::vector<std::pair<int, std::vector<std::string>>> table_rows(const std::string& path, std::string_view what) {
  std::vector<std::pair<int, std::vector<std::string>>> rows;
  std::istringstream in(read_file_or_throw(path, what));
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::vector<std::string> row;
    for (std::string field; fields >> field;) row.push_back(field);
    if (!row.empty()) rows.emplace_back(number, std::move(row));
  }
  return rows;
}

Baseline read_baseline(const std::string& path) {
  Baseline b;
  for (const auto& [number, row] : table_rows(path, "baseline file")) {
    const std::string where = sim::cat(path, ":", number);
    if (row.size() == 2 && row[0] == "defect") {
      if (scenarios::known_defect_named(row[1]) == nullptr) {
        std::string names;
        for (const scenarios::KnownDefect& d : scenarios::known_defects()) names += sim::cat(names.empty() ? "" : ", ", d.name);
        throw BadInput{sim::cat(where, ": unknown defect '", row[1], "' (expected one of: ", names, ")")};
      }
      b.defects.insert(row[1]);
    } else if (row.size() == 3) {
      seed_or_throw(row[1], sim::cat(where, ": seed"));
      b.runs.insert(sim::cat(row[0], " ", row[1], " ", row[2]));
    } else {
      throw BadInput{sim::cat(where, ": expected SCENARIO SEED VERDICT[:PROPERTY] or defect NAME")};
    }
  }
  return b;
}

bool is_fingerprint(const std::string& text) {
  return text.size() == 16 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Golden fingerprints: "SCENARIO SEED FINGERPRINT" per line.
std::map<std::string, std::string> read_golden(const std::string& path) {
  std::map<std::string, std::string> golden;
  for (const auto& [number, row] : table_rows(path, "golden file")) {
    const std::string where = sim::cat(path, ":", number);
    if (row.size() != 3) throw BadInput{sim::cat(where, ": expected SCENARIO SEED FINGERPRINT")};
    seed_or_throw(row[1], sim::cat(where, ": seed"));
    if (!is_fingerprint(row[2])) {
      throw BadInput{sim::cat(where, ": expected a fingerprint of 16 lowercase hex digits, got '", row[2], "'")};
    }
    if (!golden.emplace(sim::cat(row[0], " ", row[1]), row[2]).second) {
      throw BadInput{sim::cat(where, ": ", row[0], " seed ", row[1], " is listed twice")};
    }
  }
  return golden;
}

std::string failure_label(const scenarios::SeedOutcome& o) {
  return o.property.empty() ? o.verdict : sim::cat(o.verdict, ":", o.property);
}

// The totals of a suite run.
struct Totals {
  std::uint64_t runs = 0, failures = 0, fresh = 0, known = 0, expected = 0, unexpected_passes = 0;
  std::uint64_t golden_changed = 0;
  std::size_t passes_complete = 0, passes_incomplete = 0;  // scenarios whose first pass finished, or not
};

class Suite {
 public:
  Suite(const SuiteCmd& a, std::ostream& human) : a_(a), human_(human) {}

  void load() {
    if (!a_.resume.empty()) {
      // The sweep is the resume file's: directory, seeds, strategy, mutants, fixes.
      if (!a_.dir.empty() || a_.seeds != 0 || !a_.sweep.strategy.empty() || !a_.sweep.mutants.empty() ||
          !a_.sweep.fixes.empty()) {
        throw BadInput{sim::cat("--resume ", a_.resume, " fixes the directory, seeds, strategy, mutants and fixes: "
                                "give none of them with it")};
      }
      resumed_ = read_suite_resume_file(a_.resume);
      a_.dir = resumed_->dir;
      a_.seeds = resumed_->seeds;
      a_.sweep.strategy = resumed_->strategy;
      a_.sweep.mutants = resumed_->mutants;
      a_.sweep.fixes = resumed_->fixes;
    } else if (a_.dir.empty()) {
      throw BadInput{"suite: give a directory of scenarios, or --resume FILE"};
    }
    const std::vector<std::string> files = scenario_files_in(a_.dir);
    std::map<std::string, std::string> by_name;
    for (const std::string& f : files) {  // all-or-nothing: bad input first
      scenarios_.push_back(load_or_throw(f));
      texts_.push_back(read_file_or_throw(f, "scenario file"));
      const std::string file_name = std::filesystem::path(f).filename().string();
      digests_[file_name] = scenarios::content_digest(texts_.back());
      if (resumed_) {
        auto d = resumed_->digests.find(file_name);
        if (d == resumed_->digests.end() || d->second != digests_[file_name]) {
          throw BadInput{sim::cat(a_.resume, ": ", f, " is new or changed since the suite began: its finished seeds "
                                  "would not belong to it")};
        }
      }
      // Baselines, goldens and reports are keyed by name.
      auto [it, fresh] = by_name.emplace(scenarios_.back().name, f);
      if (!fresh) {
        throw BadInput{sim::cat(f, ": scenario name '", it->first, "' is also the name of ", it->second,
                                " (names key baselines, golden fingerprints and reports: they must differ)")};
      }
    }
    if (!a_.baseline.empty()) baseline_ = read_baseline(a_.baseline);
    if (a_.update_golden && a_.golden.empty()) throw BadInput{"--update-golden needs --golden FILE"};
    if (!a_.golden.empty() && !a_.update_golden) {
      std::error_code ec;
      if (!std::filesystem::exists(a_.golden, ec)) {
        throw BadInput{sim::cat("--golden ", a_.golden, ": no such file (write one with --update-golden)")};
      }
      golden_ = read_golden(a_.golden);
    }
    if (a_.sweep.jobs < 1 || a_.sweep.jobs > scenarios::kMaxWorkers) {
      throw BadInput{sim::cat("--jobs: expected 1 to ", scenarios::kMaxWorkers)};
    }
    mutants_ = mutants_or_throw(a_.sweep.mutants);
    strategy_ = strategy_or_throw(a_.sweep.strategy);
    if (strategy_ && strategy_->kind == sim::StrategySpec::Kind::kReplay) {
      throw BadInput{"suite: --strategy replay follows one tape; use replay or run --tape"};
    }
    fixes_ = fixes_or_throw(a_.sweep.fixes);
    for (const std::string& dir : {a_.graph_dir, a_.sweep.report_dir}) {
      if (dir.empty()) continue;
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (!std::filesystem::is_directory(dir, ec)) throw BadInput{sim::cat(dir, ": cannot create the directory")};
    }
  }

  int run() {
    interrupt_ = catch_interrupts();
    for (std::size_t i = 0; i < scenarios_.size() && interrupted_by_ == 0 && !stopped_early_; ++i) {
      const std::set<std::string> defects = pass(i, fixes_);
      // Known defects end a run where they fire: run again past them, with
      // their fixes, so a defect behind them is not hidden.
      if (!defects.empty() && interrupted_by_ == 0) {
        std::vector<engine::Fix> with = fixes_;
        for (const std::string& d : defects) with.push_back(scenarios::known_defect_named(d)->fix);
        pass(i, with);
        ++fixed_passes_;
      }
      stopped_early_ = (a_.sweep.stop_on_first && totals_.fresh > 0) || timed_out();
    }
    return finish();
  }

 private:
  // "fua-crash" or "fua-crash+fix-fua-clean-node": the key of a pass in
  // baselines, goldens and JUnit.
  std::string pass_name(const scenarios::Scenario& s, const std::vector<engine::Fix>& fixes) const {
    std::string name = s.name;
    for (engine::Fix f : fixes) {
      if (std::find(fixes_.begin(), fixes_.end(), f) == fixes_.end()) name += sim::cat("+fix-", engine::fix_name(f));
    }
    return name;
  }

  // A failure of pass `name` of `s` that neither the scenario (expect = "fail")
  // nor the baseline (its run, or its known defect) expects.
  bool is_new_failure(const scenarios::Scenario& s, const std::string& name, const scenarios::SeedOutcome& out) const {
    if (out.ok() || s.expect_fail) return false;
    if (baseline_.runs.count(sim::cat(name, " ", out.seed, " ", failure_label(out))) != 0) return false;
    return out.known_defect.empty() || baseline_.defects.count(out.known_defect) == 0;
  }

  // One sweep of scenario i; returns the known defects its failures were.
  std::set<std::string> pass(std::size_t i, const std::vector<engine::Fix>& fixes) {
    const scenarios::Scenario& s = scenarios_[i];
    const std::string name = pass_name(s, fixes);
    scenarios::SweepOptions o;
    o.interrupt = interrupt_;
    const std::uint32_t seeds = a_.seeds != 0 ? a_.seeds : s.seeds;
    // Seeds that finished before a resume are not run again.
    std::vector<scenarios::SeedOutcome> carried;
    if (resumed_) {
      if (auto it = resumed_->finished.find(name); it != resumed_->finished.end()) carried = it->second;
    }
    std::set<std::uint64_t> done;
    for (const scenarios::SeedOutcome& c : carried) done.insert(c.seed);
    for (std::uint64_t seed = 0; seed < seeds; ++seed) {
      if (done.count(seed) == 0) o.seeds.push_back(seed);
    }
    o.workers = a_.sweep.jobs;
    o.mutants = mutants_;
    o.fixes = fixes;
    o.strategy = strategy_;
    // A failure the baseline knows does not stop the suite: one behind it might be new.
    if (a_.sweep.stop_on_first) {
      o.stop_when = [this, &s, &name](const scenarios::SeedOutcome& out) { return is_new_failure(s, name, out); };
    }
    o.seed_timeout_s = a_.sweep.wall_budget_s;
    if (a_.sweep.time_budget_s > 0) {
      // The budget is the suite's: each sweep gets what is left of it.
      const double left = a_.sweep.time_budget_s - std::chrono::duration<double>(Clock::now() - start_).count();
      o.time_budget_s = std::max(left, 1e-9);
    }
    scenarios::SweepResult r = sweep_or_throw(s, o);
    interrupted_by_ = r.interrupted_by;
    const bool complete = r.outcomes.size() == o.seeds.size();
    r.outcomes.insert(r.outcomes.end(), carried.begin(), carried.end());
    std::sort(r.outcomes.begin(), r.outcomes.end(),
              [](const scenarios::SeedOutcome& x, const scenarios::SeedOutcome& y) { return x.seed < y.seed; });
    finished_[name] = r.outcomes;
    // A pass counts as finished only when all its seeds ran (scenarios, not passes, are counted).
    if (complete && fixes == fixes_) ++totals_.passes_complete;
    if (!complete) ++totals_.passes_incomplete;

    std::uint64_t failed = 0, fresh = 0;
    std::set<std::string> defects;
    std::vector<scenarios::SeedOutcome> new_failures;
    std::optional<std::uint64_t> first_failure;
    for (const scenarios::SeedOutcome& out : r.outcomes) {
      ++totals_.runs;
      for (const auto& [probe, hits] : out.probes) probe_hits_[probe] += hits;
      if (a_.sweep.json) std::cout << outcome_json(s, out, o, "") << "\n";
      const std::string key = sim::cat(name, " ", out.seed);
      check_golden(key, out);
      JunitCase c{name, sim::cat("seed ", out.seed), "", "", ""};
      if (!out.ok()) {
        ++failed;
        ++totals_.failures;
        if (!first_failure) first_failure = out.seed;
        if (!out.known_defect.empty()) defects.insert(out.known_defect);
      }
      if (s.expect_fail) {
        if (out.ok()) {
          ++totals_.unexpected_passes;
          c.failure_type = "unexpected-pass";
          c.failure_message = "an expected-fail scenario held every property";
        } else {
          ++totals_.expected;
        }
      } else if (!out.ok()) {
        new_baseline_ += out.known_defect.empty() ? sim::cat(key, " ", failure_label(out), "\n") : "";
        if (!out.known_defect.empty()) baseline_defects_.insert(out.known_defect);
        const std::string label = sim::cat(key, " ", failure_label(out));
        if (!is_new_failure(s, name, out)) {
          ++totals_.known;
          if (baseline_.runs.count(label) != 0) {
            seen_runs_.insert(label);
          } else {
            seen_defects_.insert(out.known_defect);
          }
        } else {
          ++fresh;
          new_failures.push_back(out);
          c.failure_type = out.signature;
          c.failure_message = out.message;
          c.failure_text = repro_line(s.path, out.seed, out.strategy, mutants_, fixes);
        }
      }
      cases_.push_back(std::move(c));
    }
    totals_.fresh += fresh;
    const double rate = r.wall_s > 0 ? static_cast<double>(r.outcomes.size()) / r.wall_s : 0;
    const char* status = !complete       ? "INCOMPLETE"
                         : s.expect_fail ? (failed == r.outcomes.size() ? "XFAIL" : "FAIL ")
                         : (fresh == 0 ? "PASS " : "FAIL ");
    human_ << status << " " << name << ": " << r.outcomes.size() - failed << "/" << r.outcomes.size() << " seeds held";
    if (!complete) human_ << " (" << o.seeds.size() - r.outcomes.size() << " of " << o.seeds.size() << " seeds not run)";
    if (s.expect_fail) human_ << " (expected to fail)";
    if (!s.expect_fail && failed > fresh) human_ << ", " << failed - fresh << " known failures";
    human_ << ", strategy " << (strategy_ ? strategy_->to_string() : s.strategy.to_string()) << ", " << static_cast<std::uint64_t>(rate) << " seeds/s\n";
    for (const std::string& d : defects) {
      human_ << "      known defect " << d << ": " << scenarios::known_defect_named(d)->summary << "\n";
    }
    for (const FailureGroup& g : group_failures(new_failures)) {
      human_ << "      new failure " << g.signature << ": " << g.seeds.size() << " seed" << (g.seeds.size() == 1 ? "" : "s")
             << " (" << seed_list(g.seeds, 10) << "): " << g.first.message
             << "\n      repro: " << repro_line(s.path, g.first.seed, g.first.strategy, mutants_, fixes) << "\n";
    }
    write_reports(i, name, fixes, new_failures);
    if (!a_.graph_dir.empty()) write_graph(s, name, fixes, first_failure.value_or(0));
    return s.expect_fail ? std::set<std::string>{} : defects;
  }

  void check_golden(const std::string& key, const scenarios::SeedOutcome& out) {
    const std::string fp = sim::format_fingerprint(out.fingerprint);
    new_golden_ += sim::cat(key, " ", fp, "\n");
    if (a_.golden.empty() || a_.update_golden) return;
    auto g = golden_.find(key);
    if (g == golden_.end()) {
      golden_missing_.push_back(key);
    } else if (g->second != fp) {
      ++totals_.golden_changed;
      golden_changes_.push_back(sim::cat(key, ": ", g->second, " -> ", fp));
    }
  }

  void write_reports(std::size_t i, const std::string& name, const std::vector<engine::Fix>& fixes,
                     const std::vector<scenarios::SeedOutcome>& failures) {
    if (a_.sweep.report_dir.empty()) return;
    const scenarios::Scenario& s = scenarios_[i];
    for (const scenarios::SeedOutcome& out : failures) {
      if (!out.rerunnable()) continue;
      scenarios::RunOptions ro;
      ro.seed = out.seed;
      ro.mutants = mutants_;
      ro.fixes = fixes;
      const std::string path = sim::cat(a_.sweep.report_dir, "/", name, ".seed", out.seed, ".html");
      write_report(s, texts_[i], ro, repro_line(s.path, out.seed, out.strategy, mutants_, fixes), "", path);
    }
  }

  void write_graph(const scenarios::Scenario& s, const std::string& name, const std::vector<engine::Fix>& fixes,
                   std::uint64_t seed) {
    scenarios::RunOptions ro;
    ro.seed = seed;
    ro.mutants = mutants_;
    ro.fixes = fixes;
    auto graph = std::make_shared<viz::WaitGraph>();
    ro.observers.push_back([graph](const sim::Trace& t, const sim::TraceEvent& e) { graph->observe(t, e); });
    const scenarios::RunResult graphed = scenarios::run_scenario(s, ro);
    const std::string out = sim::cat(a_.graph_dir, "/", name, ".svg");
    viz::DrawOptions draw;
    if (graphed.verdict.kind == sim::Verdict::Kind::kDeadlock) draw.view = viz::View::kDeadlock;
    auto rendered = graph->render("svg", draw);
    if (!rendered.ok()) {
      // A picture Graphviz cannot draw is no reason to stop the suite: keep its DOT text.
      const std::string dot = sim::cat(a_.graph_dir, "/", name, ".dot");
      write_file_or_throw(dot, graph->to_dot(draw));
      human_ << "      wait graph (seed " << seed << "): " << dot << " (" << rendered.status().message() << ")\n";
      return;
    }
    write_file_or_throw(out, *rendered);
    human_ << "      wait graph (seed " << seed << "): " << out << "\n";
  }

  bool timed_out() const {
    return a_.sweep.time_budget_s > 0 &&
           std::chrono::duration<double>(Clock::now() - start_).count() >= a_.sweep.time_budget_s;
  }

  int finish() {
    // Every seed of every scenario ran: only then are "no longer seen" notes,
    // baselines and golden files about the whole suite.
    const bool complete = interrupted_by_ == 0 && !stopped_early_ && totals_.passes_incomplete == 0;
    if (!a_.probes_out.empty()) {
      // Every probe of the program, reached or not, by name.
      std::map<std::string, std::uint64_t> all;
      for (const sim::Probe* p : sim::Probe::all()) all[std::string(p->name())] = 0;
      for (const auto& [probe, hits] : probe_hits_) all[probe] += hits;
      std::string text;
      for (const auto& [probe, hits] : all) text += sim::cat(probe, " ", hits, "\n");
      write_file_atomically(a_.probes_out, text);
    }
    if (complete) {
      for (const std::string& k : baseline_.runs) {
        if (seen_runs_.count(k) == 0) human_ << "note: known failure no longer seen (fixed? update the baseline): " << k << "\n";
      }
      for (const std::string& d : baseline_.defects) {
        if (seen_defects_.count(d) == 0) human_ << "note: known defect no longer seen (fixed? update the baseline): defect " << d << "\n";
      }
    }
    if (!golden_changes_.empty()) {
      human_ << "behaviour changed for " << totals_.golden_changed << " runs (review, then --update-golden):\n";
      for (std::size_t i = 0; i < golden_changes_.size() && i < 20; ++i) human_ << "      " << golden_changes_[i] << "\n";
    }
    if (!golden_missing_.empty()) {
      human_ << golden_missing_.size() << " runs have no golden fingerprint in " << a_.golden
             << " (review, then --update-golden):\n";
      for (std::size_t i = 0; i < golden_missing_.size() && i < 20; ++i) human_ << "      " << golden_missing_[i] << "\n";
    }
    // A partial run must not become a baseline or golden file.
    if (complete && !a_.write_baseline.empty()) {
      std::string text = "# blksim known failures: SCENARIO SEED VERDICT[:PROPERTY], or defect NAME\n";
      for (const std::string& d : baseline_defects_) text += sim::cat("defect ", d, "\n");
      write_file_atomically(a_.write_baseline, text + new_baseline_);
    }
    if (complete && a_.update_golden) write_file_atomically(a_.golden, new_golden_);
    if (!complete) {
      // Say how to run the rest, and leave what it takes.
      SuiteResumeState st;
      st.dir = absolute_path(a_.dir);
      st.seeds = a_.seeds;
      st.strategy = a_.sweep.strategy;
      st.mutants = a_.sweep.mutants;
      st.fixes = a_.sweep.fixes;
      st.digests = digests_;
      st.finished = finished_;
      const std::string path = !a_.resume_out.empty() ? a_.resume_out
                               : !a_.resume.empty()   ? a_.resume
                                                      : std::string("suite.resume.json");
      write_suite_resume_file(path, st);
      human_ << "resume: blksim suite --resume " << shell_quote(absolute_path(path))
             << (a_.sweep.jobs > 1 ? sim::cat(" -j ", a_.sweep.jobs) : std::string()) << "\n";
    }
    if (!complete && interrupted_by_ == 0) {
      human_ << (stopped_early_ && a_.sweep.stop_on_first && totals_.fresh > 0 ? "stopped at the first new failure"
                                                                                 : "stopped by the time budget")
             << ": " << totals_.passes_complete << " of " << scenarios_.size()
             << " scenarios finished; the baseline and golden files were left as they were\n";
    }
    if (interrupted_by_ != 0) {
      human_ << "interrupted by " << signal_name(interrupted_by_) << ": " << totals_.passes_complete << " of "
             << scenarios_.size() << " scenarios finished; what follows covers the runs that finished"
             << (a_.write_baseline.empty() && !a_.update_golden ? "" : "; the baseline and golden files were left as they were")
             << "\n";
    }
    const bool golden_ok = a_.update_golden || (totals_.golden_changed == 0 && golden_missing_.empty());
    // What ran, counted as it ran: an interrupted suite does not claim the scenarios it never finished.
    human_ << "summary: "
           << (complete ? sim::cat(scenarios_.size(), " scenarios")
                        : sim::cat("INCOMPLETE: ", totals_.passes_complete, " of ", scenarios_.size(),
                                   " scenarios finished"))
           << ", " << totals_.runs << " runs, " << totals_.runs - totals_.failures << " held, " << totals_.failures << " failed (" << totals_.fresh << " new, "
           << totals_.known << " known, " << totals_.expected << " expected), " << totals_.unexpected_passes
           << " unexpected passes"
           << (fixed_passes_ > 0 ? sim::cat(", ", fixed_passes_, " scenarios run again with the fixes of their known defects")
                                 : std::string())
           << (a_.golden.empty() || a_.update_golden
                   ? ""
                   : sim::cat(", ", totals_.golden_changed, " golden fingerprints changed, ", golden_missing_.size(),
                              " missing"))
           << "\n";
    if (!a_.sweep.junit.empty()) write_file_atomically(a_.sweep.junit, junit_document(a_.dir, cases_));
    if (interrupted_by_ != 0) return 128 + interrupted_by_;
    return totals_.fresh == 0 && totals_.unexpected_passes == 0 && golden_ok ? kExitPass : kExitFail;
  }

  SuiteCmd a_;  // a copy: --resume fills in the sweep it continues
  std::optional<SuiteResumeState> resumed_;
  std::map<std::string, std::string> digests_;  // scenario file name -> content digest
  std::map<std::string, std::vector<scenarios::SeedOutcome>> finished_;  // pass name -> outcomes so far
  std::map<std::string, std::uint64_t> probe_hits_;  // code probes over every run of the suite
  std::ostream& human_;
  std::vector<scenarios::Scenario> scenarios_;
  std::vector<std::string> texts_;
  Baseline baseline_;
  std::map<std::string, std::string> golden_;
  std::vector<engine::Mutant> mutants_;
  std::vector<engine::Fix> fixes_;
  std::optional<sim::StrategySpec> strategy_;
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start_ = Clock::now();
  const volatile std::sig_atomic_t* interrupt_ = nullptr;
  int interrupted_by_ = 0;
  bool stopped_early_ = false;  // --stop-on-first or --time-budget ended the suite
  std::size_t fixed_passes_ = 0;
  Totals totals_;
  std::set<std::string> seen_runs_, seen_defects_;
  std::set<std::string> baseline_defects_;
  std::string new_baseline_;
  std::string new_golden_ = "# blksim golden fingerprints: SCENARIO SEED FINGERPRINT\n";
  std::vector<JunitCase> cases_;
  std::vector<std::string> golden_changes_, golden_missing_;
};

}  // namespace

int cmd_suite(const SuiteCmd& a) {
  std::ostream& human = a.sweep.json ? std::cerr : std::cout;  // --json keeps stdout for JSON Lines
  Suite suite(a, human);
  suite.load();
  return suite.run();
}

}  // namespace cli
