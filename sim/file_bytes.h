// A whole file's bytes, read in one go (images, exported results). Not used
// inside a run: runs read no files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

namespace sim {

// NotFound if it cannot be opened, DataLoss if reading fails part way.
absl::StatusOr<std::vector<std::uint8_t>> read_file_bytes(const std::string& path);

}  // namespace sim
