// Helpers for runtime tests.
#pragma once

#include <string>
#include <vector>

#include "sim/world.h"

namespace testing {

inline sim::WorldConfig config(std::uint64_t seed = 0, const char* strategy = "fifo") {
  sim::WorldConfig c;
  c.seed = seed;
  c.strategy = *sim::StrategySpec::parse(strategy);
  return c;
}

}  // namespace testing
