#include "sim/invariant.h"

#include <string_view>

namespace sim {
namespace {

std::string short_path(std::string_view file) {
  // Keep the path from the project's top-level folder on, so a location is the
  // same whatever directory the build ran in.
  for (std::string_view top : {"/sim/", "/engine/", "/drivers/", "/scenarios/", "/viz/", "/tests/"}) {
    std::size_t at = file.rfind(top);
    if (at != std::string_view::npos) {
      return std::string(file.substr(at + 1));
    }
  }
  return std::string(file);
}

}  // namespace

InvariantViolation::InvariantViolation(std::string message, std::source_location where)
    : std::runtime_error(std::move(message)),
      location_(short_path(where.file_name()) + ":" + std::to_string(where.line())) {}

void invariant_failed(const char* condition, const std::string& message, std::source_location where) {
  throw InvariantViolation(message + " (" + condition + ")", where);
}

}  // namespace sim
