// Checked invariants: violated assumptions become a verdict, never a bare abort.
//
// SIM_ASSERT is active in every build. A violation throws InvariantViolation; the
// World catches it at the dispatch boundary, ends the run and reports the message
// and source location, so one bad seed never kills a whole sweep.
#pragma once

#include <source_location>
#include <stdexcept>
#include <string>

namespace sim {

class InvariantViolation : public std::runtime_error {
 public:
  InvariantViolation(std::string message, std::source_location where);
  const std::string& location() const { return location_; }

 private:
  std::string location_;
};

[[noreturn]] void invariant_failed(const char* condition, const std::string& message,
                                   std::source_location where = std::source_location::current());

}  // namespace sim

#define SIM_ASSERT(cond, msg)                                     \
  do {                                                            \
    if (!(cond)) [[unlikely]] {                                   \
      ::sim::invariant_failed(#cond, (msg));                      \
    }                                                             \
  } while (0)
