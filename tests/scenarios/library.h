// Helpers for scenario tests: library scenarios, runs, and seed searches.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/runner.h"
#include "scenarios/scenario.h"

namespace testing {

inline std::string library_path(const std::string& name) {
  return std::string(BLKSIM_SOURCE_DIR) + "/scenarios/library/" + name;
}

inline scenarios::Scenario library(const std::string& name) {
  auto s = scenarios::load_scenario(library_path(name));
  INFO(s.status().message());
  REQUIRE(s.ok());
  return *s;
}

// A scenario of tests/fixtures (regressions the hunter found, shrunk).
inline scenarios::Scenario fixture(const std::string& name) {
  auto s = scenarios::load_scenario(std::string(BLKSIM_SOURCE_DIR) + "/tests/fixtures/" + name);
  INFO(s.status().message());
  REQUIRE(s.ok());
  return *s;
}

// A scenario of scenarios/findings (defects the hunter found, reduced).
inline scenarios::Scenario finding(const std::string& name) {
  auto s = scenarios::load_scenario(std::string(BLKSIM_SOURCE_DIR) + "/scenarios/findings/" + name);
  INFO(s.status().message());
  REQUIRE(s.ok());
  return *s;
}

inline scenarios::Scenario parse(const std::string& text) {
  auto s = scenarios::parse_scenario(text, std::string(BLKSIM_SOURCE_DIR) + "/scenarios/library/inline.toml");
  INFO(s.status().message());
  REQUIRE(s.ok());
  return *s;
}

// `text` with the first `from` replaced by `to` (which must be there).
inline std::string replace(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// The parse error of `text`, which must be rejected (its path is "x.toml").
inline std::string error_of(const std::string& text) {
  auto s = scenarios::parse_scenario(text, "x.toml");
  REQUIRE_FALSE(s.ok());
  return std::string(s.status().message());
}

inline scenarios::RunResult run(const scenarios::Scenario& s, std::uint64_t seed,
                                std::vector<engine::Mutant> mutants = {}) {
  scenarios::RunOptions o;
  o.seed = seed;
  o.mutants = std::move(mutants);
  return scenarios::run_scenario(s, o);
}

// The first seed below `limit` whose run fails, if any.
inline std::optional<scenarios::RunResult> first_failure(const scenarios::Scenario& s, std::uint64_t limit,
                                                         std::vector<engine::Mutant> mutants = {}) {
  for (std::uint64_t seed = 0; seed < limit; ++seed) {
    scenarios::RunResult r = run(s, seed, mutants);
    if (!r.verdict.ok()) return r;
  }
  return std::nullopt;
}

// Every seed below `seeds` holds (the failing one's verdict is shown).
inline void require_holds(const scenarios::Scenario& s, std::uint64_t seeds) {
  for (std::uint64_t seed = 0; seed < seeds; ++seed) {
    const scenarios::RunResult r = run(s, seed);
    INFO("seed " << seed << ": " << r.verdict.message);
    CHECK(r.verdict.ok());
  }
}

// Keeps only the named oracles of a scenario (liveness and invariants stay).
inline scenarios::Scenario only(scenarios::Scenario s, std::initializer_list<scenarios::Oracle> oracles) {
  s.oracles = scenarios::OracleSet::none();
  for (scenarios::Oracle o : oracles) s.oracles = s.oracles.with(o);
  return s;
}

}  // namespace testing
