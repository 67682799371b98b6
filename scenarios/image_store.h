// Image files by the name a scenario gives them (`image = "seed.raw"`), for a
// scenario that comes with its images (a repro file's) instead of reading them
// from disk.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace scenarios {

using ImageBytes = std::shared_ptr<const std::vector<std::uint8_t>>;
using ImageStore = std::map<std::string, ImageBytes>;

}  // namespace scenarios
