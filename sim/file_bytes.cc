#include "sim/file_bytes.h"

#include <cstdio>
#include <memory>

#include "sim/str.h"

namespace sim {

absl::StatusOr<std::vector<std::uint8_t>> read_file_bytes(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (f == nullptr) return absl::NotFoundError(cat(path, ": cannot open"));
  std::vector<std::uint8_t> bytes;
  // A chunk at a time (not a byte at a time through a stream iterator).
  constexpr std::size_t kChunk = 1 << 20;
  for (;;) {
    const std::size_t have = bytes.size();
    bytes.resize(have + kChunk);
    const std::size_t got = std::fread(bytes.data() + have, 1, kChunk, f.get());
    bytes.resize(have + got);
    if (got < kChunk) break;
  }
  if (std::ferror(f.get())) return absl::DataLossError(cat(path, ": read failed"));
  return bytes;
}

}  // namespace sim
