#include "sim/invariant.h"

namespace sim {

InvariantViolation::InvariantViolation(std::string message, const char* file, int line, const char* id)
    : std::runtime_error(std::move(message)), location_(std::string(file) + ":" + std::to_string(line)), id_(id) {}

void invariant_failed(const char* condition, const std::string& message, const char* file, int line,
                      const char* id) {
  throw InvariantViolation(message + " (" + condition + ")", file, line, id);
}

}  // namespace sim
