// blksim merge: the JSON Lines of many sweeps (shards of one explore, or
// suites run apart) as one result: every run once, ordered by scenario and
// seed, one summary, one JUnit file. Merging the shards of a sweep gives what
// the unsharded sweep gives.
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "scenarios/cli/commands.h"
#include "scenarios/hunt/hunt_json.h"
#include "sim/str.h"

namespace cli {
namespace {

struct Run {
  nlohmann::ordered_json line;
  std::string where;  // FILE:LINE it came from
};

std::string text_field(const nlohmann::ordered_json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

int cmd_merge(const MergeCmd& a) {
  // The shards of a hunt: another kind of result.
  if (!a.inputs.empty() && scenarios::hunt::is_hunt_json(read_file_or_throw(a.inputs.front(), "results file"))) {
    return cmd_merge_hunts(a);
  }
  if (!a.out_dir.empty()) throw BadInput{"merge: --out is for hunt results"};
  // By (scenario, seed): the order of the output, whatever the order of shards.
  std::map<std::pair<std::string, std::uint64_t>, Run> runs;
  std::map<std::pair<std::string, unsigned>, std::set<unsigned>> shards;  // (scenario, N) -> the K seen
  for (const std::string& path : a.inputs) {
    std::istringstream in(read_file_or_throw(path, "results file"));
    std::string text;
    for (int number = 1; std::getline(in, text); ++number) {
      if (text.empty()) continue;
      const std::string where = sim::cat(path, ":", number);
      nlohmann::ordered_json j = nlohmann::ordered_json::parse(text, nullptr, false);
      if (j.is_discarded() || !j.is_object()) throw BadInput{sim::cat(where, ": expected one JSON object per line")};
      for (const char* key : {"scenario", "verdict"}) {
        if (!j.contains(key) || !j[key].is_string()) throw BadInput{sim::cat(where, ": expected a string '", key, "'")};
      }
      if (!j.contains("seed") || !j["seed"].is_number_unsigned()) {
        throw BadInput{sim::cat(where, ": expected an unsigned integer 'seed'")};
      }
      // "K/N": which shard of a sweep the line comes from. Checked for a
      // complete set below, then dropped: the merged result is one sweep's.
      if (j.contains("shard")) {
        const std::string shard = j["shard"].is_string() ? j["shard"].get<std::string>() : "";
        const std::size_t slash = shard.find('/');
        unsigned k = 0, n = 0;
        try {
          k = static_cast<unsigned>(std::stoul(shard.substr(0, slash)));
          n = static_cast<unsigned>(std::stoul(shard.substr(slash + 1)));
        } catch (const std::exception&) {
          n = 0;
        }
        if (slash == std::string::npos || k < 1 || n < 1 || k > n) {
          throw BadInput{sim::cat(where, ": 'shard' must be \"K/N\" with 1 <= K <= N, got ", j["shard"].dump())};
        }
        shards[std::make_pair(j["scenario"].get<std::string>(), n)].insert(k);
        j.erase("shard");
      }
      const auto key = std::make_pair(j["scenario"].get<std::string>(), j["seed"].get<std::uint64_t>());
      auto [it, fresh] = runs.try_emplace(key, Run{j, where});
      // Overlapping shards are harmless if they agree; runs are deterministic,
      // so a disagreement means different binaries or scenarios were mixed.
      if (!fresh && it->second.line != j) {
        throw BadInput{sim::cat(where, ": ", key.first, " seed ", key.second, " differs from ", it->second.where,
                                " (results of different builds or scenario files?)")};
      }
    }
  }
  if (runs.empty()) throw BadInput{"merge: no results in the input files"};
  // A sweep split N ways is whole only with all N shards.
  for (const auto& [scenario_n, ks] : shards) {
    const auto& [scenario, n] = scenario_n;
    std::string missing;
    for (unsigned k = 1; k <= n; ++k) {
      if (ks.count(k) == 0) missing += sim::cat(missing.empty() ? "" : ", ", k, "/", n);
    }
    if (!missing.empty()) {
      throw BadInput{sim::cat("merge: ", scenario, " was split into ", n, " shards, but shard ", missing,
                              " is missing from the input files (merge every shard, or explore them again)")};
    }
  }

  std::ostream& human = a.json ? std::cerr : std::cout;
  std::vector<JunitCase> cases;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> per_scenario;  // held, failed
  std::uint64_t failed = 0;
  for (const auto& [key, run] : runs) {
    if (a.json) std::cout << run.line.dump() << "\n";
    JunitCase c{key.first, sim::cat("seed ", key.second), "", "", ""};
    const std::string verdict = run.line["verdict"].get<std::string>();
    auto& [held_n, failed_n] = per_scenario[key.first];
    if (verdict == "pass") {
      ++held_n;
    } else {
      ++failed_n;
      ++failed;
      const std::string property = text_field(run.line, "property");
      const std::string signature = text_field(run.line, "signature");
      const std::string defect = text_field(run.line, "known_defect");
      c.failure_type = signature.empty() ? (property.empty() ? verdict : sim::cat(verdict, ":", property))
                       : defect.empty()  ? signature
                                         : sim::cat("known defect ", defect, ": ", signature);
      c.failure_message = text_field(run.line, "message");
      c.failure_text = text_field(run.line, "repro");
      human << "FAIL " << key.first << " seed " << key.second << ": " << c.failure_type << ": " << c.failure_message
            << "\n     repro: " << c.failure_text << "\n";
    }
    cases.push_back(std::move(c));
  }
  for (const auto& [scenario, counts] : per_scenario) {
    human << "  " << scenario << ": " << counts.first << " held, " << counts.second << " failed\n";
  }
  human << "merged " << a.inputs.size() << " file" << (a.inputs.size() == 1 ? "" : "s") << ": " << runs.size()
        << " runs of " << per_scenario.size() << " scenario" << (per_scenario.size() == 1 ? "" : "s") << ", "
        << runs.size() - failed << " held, " << failed << " failed\n";
  if (!a.junit.empty()) {
    const std::string suite = per_scenario.size() == 1 ? per_scenario.begin()->first : "blksim merge";
    write_file_atomically(a.junit, junit_document(suite, cases));
  }
  return failed == 0 ? kExitPass : kExitFail;
}

}  // namespace cli
