#include "scenarios/repro.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/str.h"

namespace scenarios {

Repro make_repro(const Scenario& scenario, const std::string& scenario_text, const RunOptions& options,
                 const RunResult& result) {
  Repro r;
  r.version = BLKSIM_VERSION;
  r.scenario_file = scenario.path;
  r.scenario_text = scenario_text;
  r.seed = options.seed;
  r.strategy = result.strategy == "replay" ? "replay" : options.strategy.value_or(scenario.strategy).to_string();
  r.tape = result.tape;
  for (engine::Mutant m : options.mutants) r.mutants.emplace_back(engine::mutant_name(m));
  r.verdict = std::string(sim::verdict_kind_name(result.verdict.kind));
  r.property = result.verdict.id;
  r.message = result.verdict.message;
  r.fingerprint = result.fingerprint;
  r.events = result.events;
  r.checkpoints = result.checkpoints;
  r.digests = result.digests;
  return r;
}

std::string repro_to_json(const Repro& r) {
  nlohmann::ordered_json j;
  j["blksim_repro"] = kReproFormat;
  j["version"] = r.version;
  j["scenario_file"] = r.scenario_file;
  j["seed"] = r.seed;
  j["strategy"] = r.strategy;
  j["tape"] = r.tape.to_string();
  j["mutants"] = r.mutants;
  j["expected"] = {{"verdict", r.verdict},     {"property", r.property},
                   {"message", r.message},     {"fingerprint", sim::format_fingerprint(r.fingerprint)},
                   {"events", r.events}};
  std::vector<std::string> checkpoints;
  for (std::uint64_t c : r.checkpoints) checkpoints.push_back(sim::format_fingerprint(c));
  j["checkpoints"] = checkpoints;
  static const char kHex[] = "0123456789abcdef";
  std::string digests;
  digests.reserve(r.digests.size() * 4);
  for (std::uint16_t d : r.digests) {
    for (int shift = 12; shift >= 0; shift -= 4) digests += kHex[(d >> shift) & 0xf];
  }
  j["digests"] = digests;
  j["scenario"] = r.scenario_text;
  return j.dump(2) + "\n";
}

namespace {

std::optional<std::uint64_t> parse_fingerprint(const std::string& text) {
  // As format_fingerprint writes it: 16 hex digits.
  if (text.size() != 16) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : text) {
    const int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = v * 16 + static_cast<std::uint64_t>(d);
  }
  return v;
}

}  // namespace

absl::StatusOr<Repro> parse_repro(const std::string& text, const std::string& path) {
  const auto bad = [&](const std::string& what) {
    return absl::InvalidArgumentError(sim::cat(path, ": not a blksim repro file: ", what));
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return bad(sim::cat("JSON syntax at byte ", e.byte, ": ", e.what()));
  } catch (const nlohmann::json::exception& e) {  // a number too large for any JSON type, say (found by fuzz_repro)
    return bad(e.what());
  }
  if (!j.is_object() || !j.contains("blksim_repro")) return bad("expected an object with \"blksim_repro\"");
  try {
    if (j.at("blksim_repro").get<int>() != kReproFormat) {
      return bad(sim::cat("format ", j.at("blksim_repro").dump(), ", this blksim reads format ", kReproFormat));
    }
    Repro r;
    r.version = j.at("version").get<std::string>();
    r.scenario_file = j.at("scenario_file").get<std::string>();
    r.scenario_text = j.at("scenario").get<std::string>();
    r.seed = j.at("seed").get<std::uint64_t>();
    r.strategy = j.at("strategy").get<std::string>();
    auto tape = sim::ChoiceTape::parse(j.at("tape").get<std::string>());
    if (!tape.ok()) return bad(sim::cat("tape: ", tape.status().message()));
    r.tape = *tape;
    r.mutants = j.at("mutants").get<std::vector<std::string>>();
    const auto& e = j.at("expected");
    r.verdict = e.at("verdict").get<std::string>();
    r.property = e.at("property").get<std::string>();
    r.message = e.at("message").get<std::string>();
    auto fp = parse_fingerprint(e.at("fingerprint").get<std::string>());
    if (!fp) return bad("expected.fingerprint: expected 16 hex digits");
    r.fingerprint = *fp;
    r.events = e.at("events").get<std::uint64_t>();
    const std::string digests = j.value("digests", std::string());
    if (digests.size() % 4 != 0) return bad("digests: expected 4 hex digits per event");
    for (std::size_t i = 0; i < digests.size(); i += 4) {
      std::uint16_t d = 0;
      for (std::size_t k = i; k < i + 4; ++k) {
        const char c = digests[k];
        const int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (v < 0) return bad("digests: expected 4 hex digits per event");
        d = static_cast<std::uint16_t>(d * 16 + v);
      }
      r.digests.push_back(d);
    }
    for (const auto& c : j.at("checkpoints")) {
      auto v = parse_fingerprint(c.get<std::string>());
      if (!v) return bad("checkpoints: expected 16 hex digits each");
      r.checkpoints.push_back(*v);
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    return bad(sim::cat("missing or mistyped field (", e.what(), ")"));
  }
}

absl::StatusOr<Repro> load_repro(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(sim::cat(path, ": cannot open repro file"));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_repro(text.str(), path);
}

absl::StatusOr<Scenario> repro_scenario(const Repro& repro) {
  // Parsed under its original path, so relative image paths still resolve.
  return parse_scenario(repro.scenario_text, repro.scenario_file);
}

absl::StatusOr<RunOptions> repro_options(const Repro& repro) {
  RunOptions o;
  o.seed = repro.seed;
  auto strategy = sim::StrategySpec::parse(repro.strategy);
  if (!strategy.ok()) return absl::InvalidArgumentError(sim::cat("repro strategy: ", strategy.status().message()));
  o.strategy = *strategy;
  if (strategy->kind == sim::StrategySpec::Kind::kReplay) o.tape = repro.tape;
  for (const std::string& name : repro.mutants) {
    auto m = engine::mutant_from_name(name);
    if (!m) return absl::InvalidArgumentError(sim::cat("repro mutant '", name, "': unknown to this blksim"));
    o.mutants.push_back(*m);
  }
  return o;
}

ReplayComparison compare_replay(const Repro& repro, const RunResult& result) {
  ReplayComparison c;
  if (result.fingerprint == repro.fingerprint && result.events == repro.events) {
    c.identical = true;
    c.summary = sim::cat("identical: ", result.events, " events, fingerprint ", sim::format_fingerprint(result.fingerprint));
    return c;
  }
  // The first checkpoint that differs bounds the first diverging event; the
  // per-event digests then name it.
  const std::size_t common = std::min(repro.checkpoints.size(), result.checkpoints.size());
  std::size_t k = 0;
  while (k < common && repro.checkpoints[k] == result.checkpoints[k]) ++k;
  const std::uint64_t from = k * kCheckpointEvents;
  const std::uint64_t to = std::min<std::uint64_t>((k + 1) * kCheckpointEvents, std::max(repro.events, result.events));
  for (std::uint64_t e = from; e < to && e < repro.digests.size() && e < result.digests.size(); ++e) {
    if (repro.digests[e] != result.digests[e]) {
      c.first_difference = e;
      break;
    }
  }
  if (!c.first_difference) {
    // Equal as far as both go: the shorter run ended where the other went on.
    const std::uint64_t shorter = std::min(repro.events, result.events);
    if (shorter >= from && shorter < to && shorter <= repro.digests.size() && shorter <= result.digests.size() &&
        repro.events != result.events) {
      c.first_difference = shorter;
    }
  }
  const std::string where = c.first_difference ? sim::cat("the first differing event is ", *c.first_difference)
                                               : sim::cat("the first differing event is in [", from, ", ", to, ")");
  c.summary = sim::cat("DIVERGED: ", where, " (repro: ", repro.events, " events, ", sim::format_fingerprint(repro.fingerprint),
                       "; replay: ", result.events, " events, ", sim::format_fingerprint(result.fingerprint), ")");
  if (repro.version != BLKSIM_VERSION) {
    c.summary += sim::cat("; the repro was written by blksim ", repro.version, ", this is ", BLKSIM_VERSION);
  }
  return c;
}

bool same_failure(const sim::Verdict& a, const std::string& verdict, const std::string& property) {
  return !a.ok() && sim::verdict_kind_name(a.kind) == verdict && a.id == property;
}

}  // namespace scenarios
