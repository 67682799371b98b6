#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "scenarios/runner.h"
#include "sim/co_mutex.h"
#include "sim/world.h"
#include "common/programs.h"
#include "viz/wait_graph.h"

namespace {

std::shared_ptr<viz::WaitGraph> graph_of_skeleton(std::uint64_t seed) {
  auto s = scenarios::load_scenario(std::string(BLKSIM_SOURCE_DIR) + "/scenarios/library/overlapping-writers.toml");
  REQUIRE(s.ok());
  auto graph = std::make_shared<viz::WaitGraph>();
  scenarios::RunOptions o;
  o.seed = seed;
  o.observers.push_back([graph](const sim::Trace& t, const sim::TraceEvent& e) { graph->observe(t, e); });
  REQUIRE(scenarios::run_scenario(*s, o).verdict.ok());
  return graph;
}


}  // namespace

TEST_CASE("the skeleton's wait graph shows serialising waits between requests, and is stable") {
  auto graph = graph_of_skeleton(3);
  std::string dot = graph->to_dot();
  CHECK(dot == graph_of_skeleton(3)->to_dot());
  CHECK(dot.rfind("digraph waits {", 0) == 0);
  bool serialising = false;
  for (const auto& e : graph->edges()) {
    if (e.reason == "serialising") {
      serialising = true;
      CHECK(e.from.rfind("co", 0) == 0);
      CHECK(e.to.rfind("co", 0) == 0);
      CHECK(e.open == 0);
      CHECK(e.total_ns > 0);
    }
  }
  CHECK(serialising);
  CHECK(dot.find("bdrv_co_pwritev") != std::string::npos);
  CHECK(dot.find("color=red") == std::string::npos);  // no deadlock, nothing red
}

TEST_CASE("a deadlock's cycle is drawn in red, with the waits still open") {
  auto graph = std::make_shared<viz::WaitGraph>();
  {
    sim::World world;
    world.trace().add_observer([graph](const sim::Trace& t, const sim::TraceEvent& e) { graph->observe(t, e); });
    sim::CoMutex a("mutex A");
    sim::CoMutex b("mutex B");
    world.spawn(world.main_context(), "ab", testing::lock_two(a, b));
    world.spawn(world.main_context(), "ba", testing::lock_two(b, a));
    world.run();
    REQUIRE(world.verdict().kind == sim::Verdict::Kind::kDeadlock);
  }
  auto edges = graph->edges();
  int red = 0;
  for (const auto& e : edges) {
    if (e.reason == "CoMutex") {
      CHECK(e.on_cycle);
      CHECK(e.open == 1);
      ++red;
    }
  }
  CHECK(red == 2);
  std::string dot = graph->to_dot();
  CHECK(dot.find("co1 -> co2") != std::string::npos);
  CHECK(dot.find("co2 -> co1") != std::string::npos);
  CHECK(dot.find("color=red") != std::string::npos);
  CHECK(dot.find("still waiting") != std::string::npos);
}

TEST_CASE("Graphviz renders SVG and PNG in-process") {
  auto graph = graph_of_skeleton(1);
  auto svg = graph->render("svg");
  REQUIRE(svg.ok());
  CHECK(svg->find("<svg") != std::string::npos);
  CHECK(svg->find("serialising") != std::string::npos);
  auto png = graph->render("png");
  REQUIRE(png.ok());
  CHECK(png->substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  CHECK_FALSE(graph->render("gif").ok());
}
