// Any bytes as a scenario file: parse_scenario must accept them or return an
// error, never crash, hang or trip a check.
#include <cstddef>
#include <cstdint>
#include <string>

#include "scenarios/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto scenario = scenarios::parse_scenario(text, "fuzz.toml");
  if (scenario.ok()) {
    // What a parsed scenario promises the runner: named nodes and jobs.
    for (const auto& job : scenario->jobs) {
      if (job.node.empty()) __builtin_trap();
    }
  }
  return 0;
}
