// Checked invariants: violated assumptions become a verdict, never a bare abort.
//
// SIM_ASSERT is active in every build. A violation throws InvariantViolation; the
// World catches it at the dispatch boundary, ends the run and reports the message
// and source location, so one bad seed never kills a whole sweep.
#pragma once

#include <stdexcept>
#include <string>

namespace sim {

class InvariantViolation : public std::runtime_error {
 public:
  InvariantViolation(std::string message, const char* file, int line, const char* id = "");
  // "engine/write.cc:42": the build maps source paths to be relative to the tree.
  const std::string& location() const { return location_; }
  // A stable name for the invariant ("aligned_pwritev.offset_aligned"), empty for
  // the runtime's own checks. Ids survive edits that move the line.
  const std::string& id() const { return id_; }

 private:
  std::string location_;
  std::string id_;
};

[[noreturn]] void invariant_failed(const char* condition, const std::string& message, const char* file, int line,
                                   const char* id = "");

}  // namespace sim

// An invariant with a stable id: the engine's transcriptions of the reference's
// assertions use these.
#define SIM_CHECK(id, cond, msg)                                     \
  do {                                                               \
    if (!(cond)) [[unlikely]] {                                      \
      ::sim::invariant_failed(#cond, (msg), __FILE__, __LINE__, id); \
    }                                                                \
  } while (0)

// __FILE__ rather than std::source_location: clang 14 with libstdc++ 12 lacks it.
#define SIM_ASSERT(cond, msg)                                        \
  do {                                                               \
    if (!(cond)) [[unlikely]] {                                      \
      ::sim::invariant_failed(#cond, (msg), __FILE__, __LINE__);     \
    }                                                                \
  } while (0)
