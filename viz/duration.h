// Virtual durations as pictures label them: "950ns", "42us", "7ms".
#pragma once

#include <cstdint>
#include <string>

#include "sim/str.h"

namespace viz {

inline std::string format_ns(std::uint64_t ns) {
  if (ns < 10'000) return sim::cat(ns, "ns");
  if (ns < 10'000'000) return sim::cat(ns / 1000, "us");
  return sim::cat(ns / 1'000'000, "ms");
}

}  // namespace viz
