// The hunter's generator: every scenario it draws is one the parser takes,
// the same seed draws the same scenario, and swarm subsets vary.
#include <catch2/catch.hpp>

#include <set>

#include "scenarios/hunt/generate.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"

using scenarios::hunt::Feature;
using scenarios::hunt::generate;
using scenarios::hunt::GenerateOptions;

TEST_CASE("hunt: every generated scenario parses, with and without swarm") {
  for (bool swarm : {true, false}) {
    for (std::uint64_t seed = 0; seed < 600; ++seed) {
      const auto g = generate(seed, GenerateOptions{.swarm = swarm});
      const auto parsed = scenarios::parse_scenario(g.text, "<hunt>/" + g.name + ".toml");
      INFO("seed " << seed << (swarm ? "" : " without swarm") << "\n" << g.text);
      REQUIRE(parsed.ok());
      CHECK(parsed->name == g.name);
      CHECK(parsed->seeds == 3);
    }
  }
}

TEST_CASE("hunt: a seed always draws the same scenario, and other seeds others") {
  std::set<std::string> texts;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    const auto g = generate(seed);
    CHECK(g.text == generate(seed).text);
    texts.insert(g.text);
  }
  CHECK(texts.size() == 50);
}

TEST_CASE("hunt: swarm draws a subset of the features, the control draws all") {
  std::set<std::string> subsets;
  std::size_t features_on = 0;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    const auto g = generate(seed);
    subsets.insert(g.swarm.describe());
    features_on += g.swarm.on.count();
    // Some operation is always on: a job needs something to do.
    CHECK((g.swarm.has(Feature::kRead) || g.swarm.has(Feature::kWrite) || g.swarm.has(Feature::kZeroWrite) ||
           g.swarm.has(Feature::kDiscard) || g.swarm.has(Feature::kFlush)));
    CHECK(generate(seed, GenerateOptions{.swarm = false}).swarm.on.all());
  }
  CHECK(subsets.size() > 150);
  // About half of the features each time.
  CHECK(features_on > 200 * scenarios::hunt::kFeatureCount * 4 / 10);
  CHECK(features_on < 200 * scenarios::hunt::kFeatureCount * 6 / 10);
}

TEST_CASE("hunt: generated scenarios run, and a seed's run is the same twice") {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const auto g = generate(seed);
    const auto parsed = scenarios::parse_scenario(g.text, "<hunt>/" + g.name + ".toml");
    REQUIRE(parsed.ok());
    scenarios::RunOptions o;
    o.seed = 1;
    const auto a = scenarios::run_scenario(*parsed, o);
    const auto b = scenarios::run_scenario(*parsed, o);
    INFO("seed " << seed << "\n" << g.text);
    CHECK(a.fingerprint == b.fingerprint);
    CHECK(a.events > 0);
  }
}
