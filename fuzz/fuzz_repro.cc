// Any bytes as a repro file: parse_repro and what replay derives from it (the
// embedded scenario, the run options) must accept them or return an error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "scenarios/repro.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto repro = scenarios::parse_repro(text, "fuzz.repro.json");
  if (repro.ok()) {
    (void)scenarios::repro_scenario(*repro);
    (void)scenarios::repro_options(*repro);
  }
  return 0;
}
