// The wait graph's views: golden DOT for small fixed runs, snapshots that show
// exactly the waits open at their cut, the deadlock view's red cycle and faded
// bystanders, and bounded pictures of very large runs.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "common/programs.h"
#include "scenarios/runner.h"
#include "sim/co_mutex.h"
#include "sim/world.h"
#include "viz/wait_graph.h"

namespace {

using viz::View;

// Feeds the graph the events of a run that fall at or before `last_event`.
std::shared_ptr<viz::WaitGraph> graph_of(const std::string& scenario, std::uint64_t seed,
                                         std::uint64_t last_event = UINT64_MAX) {
  auto s = scenarios::load_scenario(std::string(BLKSIM_SOURCE_DIR) + "/scenarios/library/" + scenario);
  REQUIRE(s.ok());
  auto graph = std::make_shared<viz::WaitGraph>();
  scenarios::RunOptions o;
  o.seed = seed;
  o.observers.push_back([graph, last_event](const sim::Trace& t, const sim::TraceEvent& e) {
    if (e.index <= last_event) graph->observe(t, e);
  });
  scenarios::run_scenario(*s, o);
  return graph;
}

// Compares with tests/golden/viz/NAME; BLKSIM_UPDATE_GOLDEN=1 rewrites it.
void check_golden(const std::string& name, const std::string& dot) {
  const std::string path = std::string(BLKSIM_SOURCE_DIR) + "/tests/golden/viz/" + name;
  if (std::getenv("BLKSIM_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::trunc) << dot;
  }
  std::ifstream in(path);
  REQUIRE(in.good());
  std::ostringstream golden;
  golden << in.rdbuf();
  INFO("golden " << path << " differs; review, then rerun with BLKSIM_UPDATE_GOLDEN=1");
  CHECK(dot == golden.str());
}

}  // namespace

TEST_CASE("golden DOT: the whole view, a snapshot and the deadlock view of fixed runs") {
  check_golden("overlapping-writers.seed0.whole.dot", graph_of("overlapping-writers.toml", 0)->to_dot());
  check_golden("rmw-breakpoints.seed0.snapshot-at-200.dot",
               graph_of("rmw-breakpoints.toml", 0, 200)->to_dot({View::kSnapshot, viz::kDefaultMaxVertices}));
  check_golden("breakpoint-deadlock.seed0.deadlock.dot",
               graph_of("breakpoint-deadlock.toml", 0)->to_dot({View::kDeadlock, viz::kDefaultMaxVertices}));
  // Same run, same bytes.
  CHECK(graph_of("overlapping-writers.toml", 0)->to_dot() == graph_of("overlapping-writers.toml", 0)->to_dot());
}

TEST_CASE("a snapshot at a time shows exactly the waits open then") {
  auto s = scenarios::load_scenario(std::string(BLKSIM_SOURCE_DIR) + "/scenarios/library/rmw-alignments.toml");
  REQUIRE(s.ok());
  for (const std::uint64_t cut_ns : {20'000ULL, 60'000ULL, 150'000ULL}) {
    auto graph = std::make_shared<viz::WaitGraph>();
    // Independently: waiter -> (reason) of every wait begun and not ended by the cut.
    auto open = std::make_shared<std::map<std::uint64_t, std::string>>();
    scenarios::RunOptions o;
    o.seed = 4;
    o.observers.push_back([graph, open, cut_ns](const sim::Trace& t, const sim::TraceEvent& e) {
      if (e.time_ns > cut_ns) return;
      graph->observe(t, e);
      if (e.kind == sim::EventKind::kWaitBegin) (*open)[e.co] = std::string(t.text(e.label));
      if (e.kind == sim::EventKind::kWaitEnd) open->erase(e.co);
    });
    scenarios::run_scenario(*s, o);
    REQUIRE_FALSE(open->empty());
    std::map<std::string, std::uint64_t> expected;  // reason -> open waits
    for (const auto& [co, reason] : *open) ++expected[reason];
    std::map<std::string, std::uint64_t> drawn;
    const viz::DrawOptions snapshot{View::kSnapshot, 100000};
    for (const auto& e : graph->edges(snapshot)) {
      CHECK(e.open > 0);
      CHECK(e.open_since_ns <= cut_ns);
      drawn[e.reason] += e.open;
    }
    INFO("cut at " << cut_ns << " ns");
    CHECK(drawn == expected);
    // Every waiter drawn is in the snapshot, labelled with what it waits for.
    std::size_t waiting = 0;
    for (const auto& v : graph->vertices(snapshot)) waiting += v.label.find("\nwaits: ") != std::string::npos ? 1 : 0;
    CHECK(waiting == open->size());
  }
}

TEST_CASE("the deadlock view draws the cycle red and fades what does not feed it") {
  auto graph = std::make_shared<viz::WaitGraph>();
  {
    sim::World world;
    world.trace().add_observer([graph](const sim::Trace& t, const sim::TraceEvent& e) { graph->observe(t, e); });
    sim::CoMutex a("mutex A");
    sim::CoMutex b("mutex B");
    sim::CoMutex c("mutex C");
    world.spawn(world.main_context(), "ab", testing::lock_two(a, b));         // co1: on the cycle
    world.spawn(world.main_context(), "ba", testing::lock_two(b, a));         // co2: on the cycle
    world.spawn(world.main_context(), "feeder", testing::lock_one(a));        // co3: waits for the cycle
    world.spawn(world.main_context(), "holder-c", testing::lock_two(c, a));   // co4: holds C, waits for A
    world.spawn(world.main_context(), "bystander", testing::lock_one(c));     // co5: waits for co4: feeds it too
    world.run();
    REQUIRE(world.verdict().kind == sim::Verdict::Kind::kDeadlock);
  }
  CHECK(graph->has_cycle());
  const viz::DrawOptions deadlock{View::kDeadlock, viz::kDefaultMaxVertices};
  std::map<std::string, viz::WaitGraph::Vertex> by_key;
  for (const auto& v : graph->vertices(deadlock)) by_key[v.key] = v;
  CHECK(by_key.at("co1").on_cycle);
  CHECK(by_key.at("co2").on_cycle);
  CHECK_FALSE(by_key.at("co3").faded);
  CHECK_FALSE(by_key.at("co5").faded);
  int red = 0;
  for (const auto& e : graph->edges(deadlock)) red += e.on_cycle ? 1 : 0;
  CHECK(red == 2);
  const std::string dot = graph->to_dot(deadlock);
  CHECK(dot.find("color=red") != std::string::npos);

  // A waiter that does not lead to the cycle is faded.
  auto lone = std::make_shared<viz::WaitGraph>();
  {
    sim::World world;
    world.trace().add_observer([lone](const sim::Trace& t, const sim::TraceEvent& e) { lone->observe(t, e); });
    sim::CoMutex a("mutex A");
    sim::CoMutex b("mutex B");
    sim::CoQueue nobody;
    world.spawn(world.main_context(), "ab", testing::lock_two(a, b));
    world.spawn(world.main_context(), "ba", testing::lock_two(b, a));
    world.spawn(world.main_context(), "unrelated", testing::wait_forever(nobody));
    world.run();
  }
  bool faded = false;
  for (const auto& v : lone->vertices(deadlock)) faded = faded || v.faded;
  CHECK(faded);
  CHECK(lone->to_dot(deadlock).find("gray80") != std::string::npos);
}

TEST_CASE("a run of 100k requests gives a bounded graph by aggregating") {
  std::string text = R"([scenario]
name = "big"
oracles = ["hygiene"]
step_budget = 100000000
[[node]]
name = "fast"
driver = "null"
size = "64M"
latency_ns = 1000
)";
  for (int j = 0; j < 5; ++j) {
    text += "[[job]]\nname = \"j" + std::to_string(j) + "\"\nnode = \"fast\"\nqueue_depth = 32\n" +
            "random = { ops = 20000, read = 50, write = 50, flush = 0, min_bytes = 4096, max_bytes = 4096, align = 4096 }\n";
  }
  auto s = scenarios::parse_scenario(text, "big.toml");
  INFO(s.status().message());
  REQUIRE(s.ok());
  auto graph = std::make_shared<viz::WaitGraph>();
  scenarios::RunOptions o;
  o.observers.push_back([graph](const sim::Trace& t, const sim::TraceEvent& e) { graph->observe(t, e); });
  const scenarios::RunResult r = scenarios::run_scenario(*s, o);
  INFO(r.verdict.message);
  REQUIRE(r.verdict.ok());
  CHECK(r.requests == 100000);
  const std::string dot = graph->to_dot();
  std::size_t coroutines = 0;
  std::uint64_t members = 0;
  for (const auto& v : graph->vertices()) {
    coroutines += v.coroutine ? 1 : 0;
    members += v.coroutine ? v.members : 0;
  }
  CHECK(coroutines <= viz::kDefaultMaxVertices);
  CHECK(members >= 100000);  // every request's coroutine is in some group
  CHECK(dot.size() < 64 * 1024);
  CHECK(dot.find("coroutines of j0 on fast") != std::string::npos);
  auto svg = graph->render("svg");
  REQUIRE(svg.ok());
  CHECK(svg->size() < 256 * 1024);
}

TEST_CASE("drained sections open at a snapshot are drawn, nested ones counted") {
  auto s = scenarios::load_scenario(std::string(BLKSIM_SOURCE_DIR) + "/scenarios/library/nested-drained.toml");
  REQUIRE(s.ok());
  auto graph = std::make_shared<viz::WaitGraph>();
  scenarios::RunOptions o;
  o.observers.push_back([graph](const sim::Trace& t, const sim::TraceEvent& e) {
    if (e.time_ns <= 100'000) graph->observe(t, e);
  });
  scenarios::run_scenario(*s, o);
  std::map<std::string, std::string> labels;
  for (const auto& v : graph->vertices({View::kSnapshot, viz::kDefaultMaxVertices})) labels[v.key] = v.label;
  REQUIRE(labels.count("drained:fmt") == 1);
  CHECK_THAT(labels.at("drained:fmt"), Catch::Contains("(2 nested)"));
  REQUIRE(labels.count("drained:proto") == 1);
  // The whole-run view has no snapshot state.
  for (const auto& v : graph->vertices()) CHECK(v.key.rfind("drained:", 0) != 0);
}
