#include "sim/invariant.h"

namespace sim {

InvariantViolation::InvariantViolation(std::string message, const char* file, int line)
    : std::runtime_error(std::move(message)), location_(std::string(file) + ":" + std::to_string(line)) {}

void invariant_failed(const char* condition, const std::string& message, const char* file, int line) {
  throw InvariantViolation(message + " (" + condition + ")", file, line);
}

}  // namespace sim
