#include "scenarios/hunt/hunt_json.h"

#include <nlohmann/json.hpp>

#include "sim/str.h"

namespace scenarios::hunt {

namespace {

using Json = nlohmann::ordered_json;

Swarm swarm_from(const std::string& names) {
  Swarm s;
  for (std::size_t f = 0; f < kFeatureCount; ++f) {
    const std::string name(feature_name(static_cast<Feature>(f)));
    // Names are whole words between commas.
    const std::string padded = sim::cat(",", names, ",");
    if (padded.find(sim::cat(",", name, ",")) != std::string::npos) s.on.set(f);
  }
  return s;
}

}  // namespace

std::string hunt_to_json(const HuntHeader& h, const HuntResult& r) {
  Json j;
  j["kind"] = "hunt";
  j["first_seed"] = h.first_seed;
  j["shard"] = sim::cat(h.shard_k, "/", h.shard_n);
  j["seeds_per"] = h.run_seeds;
  j["swarm"] = h.swarm;
  j["feedback"] = h.feedback;
  j["mutants"] = h.mutants;
  j["fixes"] = h.fixes;
  j["scenarios"] = r.scenarios;
  j["runs"] = r.runs;
  j["failed_runs"] = r.failed_runs;
  j["behind_runs"] = r.behind_runs;
  j["mutated"] = r.mutated;
  j["corpus"] = r.corpus;
  j["coverage_features"] = r.coverage_features;
  j["wall_s"] = r.wall_s;
  j["interrupted_by"] = r.interrupted_by;
  Json findings = Json::array();
  for (const Finding& f : r.findings) {
    Json x;
    x["signature"] = f.signature;
    x["known_defect"] = f.known_defect;
    x["consequence_of"] = f.consequence_of;
    x["refuted_label"] = f.refuted_label;
    Json behind = Json::array();
    for (engine::Fix fix : f.behind) behind.push_back(std::string(engine::fix_name(fix)));
    x["behind"] = behind;
    x["consequence_failing"] = f.consequence_failing;
    x["without_mutant"] = f.without_mutant;
    x["unanalysed"] = f.unanalysed;
    x["open_finding"] = f.open_finding;
    x["property"] = f.property;
    x["message"] = f.message;
    x["count"] = f.count;
    x["scenario_seed"] = f.first.seed;
    x["name"] = f.first.name;
    x["swarm"] = f.first.swarm.describe();
    x["run_seed"] = f.run_seed;
    x["strategy"] = f.strategy;
    x["text"] = f.first.text;
    findings.push_back(std::move(x));
  }
  j["findings"] = std::move(findings);
  Json rejected = Json::array();
  for (const auto& [seed, message] : r.rejected) rejected.push_back(Json{{"seed", seed}, {"message", message}});
  j["rejected"] = std::move(rejected);
  j["probes"] = r.probes;
  j["first_reached"] = r.first_reached;
  return j.dump() + "\n";
}

bool is_hunt_json(const std::string& text) {
  const Json j = Json::parse(text, nullptr, false);
  return !j.is_discarded() && j.is_object() && j.value("kind", "") == "hunt";
}

absl::StatusOr<HuntFile> hunt_from_json(const std::string& text, const std::string& where) {
  const Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("kind", "") != "hunt") {
    return absl::InvalidArgumentError(sim::cat(where, ": expected a JSON object with \"kind\": \"hunt\" (blksim hunt --json)"));
  }
  HuntFile out;
  try {
    HuntHeader& h = out.header;
    h.first_seed = j.at("first_seed").get<std::uint64_t>();
    const std::string shard = j.at("shard").get<std::string>();
    const std::size_t slash = shard.find('/');
    if (slash == std::string::npos) throw std::invalid_argument("shard");
    h.shard_k = static_cast<unsigned>(std::stoul(shard.substr(0, slash)));
    h.shard_n = static_cast<unsigned>(std::stoul(shard.substr(slash + 1)));
    if (h.shard_k < 1 || h.shard_k > h.shard_n) throw std::invalid_argument("shard");
    h.run_seeds = j.at("seeds_per").get<std::uint32_t>();
    h.swarm = j.at("swarm").get<bool>();
    h.feedback = j.at("feedback").get<bool>();
    h.mutants = j.at("mutants").get<std::vector<std::string>>();
    h.fixes = j.at("fixes").get<std::vector<std::string>>();
    HuntResult& r = out.result;
    r.scenarios = j.at("scenarios").get<std::uint64_t>();
    r.runs = j.at("runs").get<std::uint64_t>();
    r.failed_runs = j.at("failed_runs").get<std::uint64_t>();
    r.behind_runs = j.at("behind_runs").get<std::uint64_t>();
    r.mutated = j.at("mutated").get<std::uint64_t>();
    r.corpus = j.at("corpus").get<std::size_t>();
    r.coverage_features = j.at("coverage_features").get<std::size_t>();
    r.wall_s = j.at("wall_s").get<double>();
    r.interrupted_by = j.at("interrupted_by").get<int>();
    for (const Json& x : j.at("findings")) {
      Finding f;
      f.signature = x.at("signature").get<std::string>();
      f.known_defect = x.at("known_defect").get<std::string>();
      f.consequence_of = x.at("consequence_of").get<std::string>();
      f.refuted_label = x.at("refuted_label").get<std::string>();
      for (const std::string& name : x.at("behind").get<std::vector<std::string>>()) {
        const std::optional<engine::Fix> fix = engine::fix_from_name(name);
        if (!fix) throw std::invalid_argument(sim::cat("unknown fix '", name, "' in a finding's \"behind\""));
        f.behind.push_back(*fix);
      }
      f.consequence_failing = x.at("consequence_failing").get<std::uint64_t>();
      f.without_mutant = x.at("without_mutant").get<bool>();
      f.unanalysed = x.at("unanalysed").get<bool>();
      f.open_finding = x.at("open_finding").get<bool>();
      f.property = x.at("property").get<std::string>();
      f.message = x.at("message").get<std::string>();
      f.count = x.at("count").get<std::uint64_t>();
      f.first.seed = x.at("scenario_seed").get<std::uint64_t>();
      f.first.name = x.at("name").get<std::string>();
      f.first.swarm = swarm_from(x.at("swarm").get<std::string>());
      f.first.text = x.at("text").get<std::string>();
      f.run_seed = x.at("run_seed").get<std::uint64_t>();
      f.strategy = x.at("strategy").get<std::string>();
      r.findings.push_back(std::move(f));
    }
    for (const Json& x : j.at("rejected")) {
      r.rejected.emplace_back(x.at("seed").get<std::uint64_t>(), x.at("message").get<std::string>());
    }
    r.probes = j.at("probes").get<std::map<std::string, std::uint64_t>>();
    r.first_reached = j.at("first_reached").get<std::map<std::string, std::string>>();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(sim::cat(where, ": not a complete hunt result (", e.what(), ")"));
  }
  return out;
}

}  // namespace scenarios::hunt
