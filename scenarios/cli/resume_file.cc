#include "scenarios/cli/resume_file.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "scenarios/cli/common.h"
#include "sim/str.h"

namespace cli {

std::string seed_ranges(const std::vector<std::uint64_t>& seeds) {
  std::vector<std::uint64_t> sorted = seeds;
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  for (std::size_t i = 0; i < sorted.size();) {
    std::size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
    out += sim::cat(out.empty() ? "" : ", ", sorted[i], i == j ? std::string() : sim::cat("..", sorted[j]));
    i = j + 1;
  }
  return out.empty() ? "none" : out;
}

namespace {

// What a sweep runs with, as both kinds of resume file keep it.
void put_options(nlohmann::ordered_json& j, const std::string& strategy, const std::vector<std::string>& mutants,
                 const std::vector<std::string>& fixes) {
  j["strategy"] = strategy;
  j["mutants"] = mutants;
  j["fixes"] = fixes;
}

void get_options(const nlohmann::json& j, std::string& strategy, std::vector<std::string>& mutants,
                 std::vector<std::string>& fixes) {
  strategy = j.at("strategy").get<std::string>();
  mutants = j.at("mutants").get<std::vector<std::string>>();
  fixes = j.at("fixes").get<std::vector<std::string>>();
}

nlohmann::ordered_json outcomes_json(const std::vector<scenarios::SeedOutcome>& outcomes) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const scenarios::SeedOutcome& o : outcomes) list.push_back(nlohmann::ordered_json::parse(scenarios::seed_outcome_json(o)));
  return list;
}

}  // namespace

void write_resume_file(const std::string& path, const ResumeState& st) {
  nlohmann::ordered_json j;
  j["blksim_resume"] = kResumeFormat;
  j["scenario_file"] = st.scenario_file;
  j["scenario_digest"] = st.scenario_digest;
  j["seeds"] = st.seeds;
  put_options(j, st.strategy, st.mutants, st.fixes);
  j["shard"] = st.shard;
  j["finished_seeds"] = [&] {
    std::vector<std::uint64_t> seeds;
    for (const scenarios::SeedOutcome& o : st.finished) seeds.push_back(o.seed);
    return seed_ranges(seeds);
  }();
  j["finished"] = outcomes_json(st.finished);
  write_file_atomically(path, j.dump(1) + "\n");
}

ResumeState read_resume_file(const std::string& path) {
  const std::string text = read_file_or_throw(path, "resume file");
  const auto bad = [&](const std::string& what) { return BadInput{sim::cat(path, ": not a usable resume file: ", what)}; };
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("blksim_resume")) throw bad("expected a JSON object with \"blksim_resume\"");
  ResumeState st;
  try {
    if (!j.at("blksim_resume").is_number_unsigned() || j.at("blksim_resume").get<int>() != kResumeFormat) {
      throw bad(sim::cat("format ", j.at("blksim_resume").dump(), ", this blksim reads format ", kResumeFormat));
    }
    st.scenario_file = j.at("scenario_file").get<std::string>();
    st.scenario_digest = j.at("scenario_digest").get<std::string>();
    for (const auto& s : j.at("seeds")) {
      if (!s.is_number_unsigned()) throw bad(sim::cat("seeds: expected integers from 0 to 18446744073709551615, got ", s.dump()));
      st.seeds.push_back(s.get<std::uint64_t>());
    }
    if (st.seeds.empty() || st.seeds.size() > scenarios::kMaxSweepSeeds) throw bad("seeds: expected 1 to 100000000 seeds");
    get_options(j, st.strategy, st.mutants, st.fixes);
    st.shard = j.at("shard").get<std::string>();
    const std::set<std::uint64_t> in_sweep(st.seeds.begin(), st.seeds.end());
    std::set<std::uint64_t> seen;
    for (const auto& o : j.at("finished")) {
      auto outcome = scenarios::seed_outcome_from_json(o.dump());
      if (!outcome) throw bad(sim::cat("finished: not a seed outcome: ", o.dump()));
      if (in_sweep.count(outcome->seed) == 0 || !seen.insert(outcome->seed).second) {
        throw bad(sim::cat("finished: seed ", outcome->seed, " is not a seed of the sweep, or is listed twice"));
      }
      st.finished.push_back(*std::move(outcome));
    }
  } catch (const nlohmann::json::exception& e) {
    throw bad(sim::cat("missing or mistyped field (", e.what(), ")"));
  }
  return st;
}

void write_suite_resume_file(const std::string& path, const SuiteResumeState& st) {
  nlohmann::ordered_json j;
  j["blksim_suite_resume"] = kResumeFormat;
  j["dir"] = st.dir;
  j["seeds"] = st.seeds;
  put_options(j, st.strategy, st.mutants, st.fixes);
  j["digests"] = st.digests;
  j["finished"] = nlohmann::ordered_json::object();
  for (const auto& [pass, outcomes] : st.finished) j["finished"][pass] = outcomes_json(outcomes);
  write_file_atomically(path, j.dump(1) + "\n");
}

SuiteResumeState read_suite_resume_file(const std::string& path) {
  const std::string text = read_file_or_throw(path, "resume file");
  const auto bad = [&](const std::string& what) { return BadInput{sim::cat(path, ": not a usable suite resume file: ", what)}; };
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("blksim_suite_resume")) {
    throw bad("expected a JSON object with \"blksim_suite_resume\"");
  }
  SuiteResumeState st;
  try {
    if (!j.at("blksim_suite_resume").is_number_unsigned() || j.at("blksim_suite_resume").get<int>() != kResumeFormat) {
      throw bad(sim::cat("format ", j.at("blksim_suite_resume").dump(), ", this blksim reads format ", kResumeFormat));
    }
    st.dir = j.at("dir").get<std::string>();
    if (!j.at("seeds").is_number_unsigned() || j.at("seeds").get<std::uint64_t>() > scenarios::kMaxSeeds) {
      throw bad(sim::cat("seeds: expected 0 to ", scenarios::kMaxSeeds));
    }
    st.seeds = j.at("seeds").get<std::uint32_t>();
    get_options(j, st.strategy, st.mutants, st.fixes);
    st.digests = j.at("digests").get<std::map<std::string, std::string>>();
    for (const auto& [pass, list] : j.at("finished").items()) {
      std::set<std::uint64_t> seen;
      for (const auto& o : list) {
        auto outcome = scenarios::seed_outcome_from_json(o.dump());
        if (!outcome || !seen.insert(outcome->seed).second) {
          throw bad(sim::cat("finished.", pass, ": not a seed outcome, or a seed listed twice: ", o.dump()));
        }
        st.finished[pass].push_back(*std::move(outcome));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw bad(sim::cat("missing or mistyped field (", e.what(), ")"));
  }
  return st;
}

}  // namespace cli
