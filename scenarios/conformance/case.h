// Differential conformance with real QEMU: one case is a raw image, a set of
// blkdebug limits and a sequence of qemu-io commands, run sequentially. The
// same case runs through blksim (mem node under a fault node with the same
// limits) and through Debian's qemu-io (blkdebug over the file driver); every
// command's result, every byte a read returns and the final image must agree.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace conformance {

// Bounds of generated cases.
inline constexpr std::uint64_t kMaxImageBytes = 256 * 1024;
inline constexpr std::uint64_t kMaxCommandBytes = 32 * 1024;
inline constexpr int kMaxCommands = 16;

struct Limits {
  std::uint32_t align = 1;  // blkdebug align (request_alignment)
  std::uint32_t max_transfer = 0;
  std::uint32_t opt_write_zero = 0;
  std::uint32_t max_write_zero = 0;
  std::uint32_t opt_discard = 0;
  std::uint32_t max_discard = 0;
};

struct Case {
  std::uint64_t seed = 0;
  std::uint64_t index = 0;
  std::uint64_t image_bytes = 0;
  Limits limits;
  std::vector<std::string> commands;  // qemu-io syntax; reads are plain `read OFF LEN`
};

// Case `index` of the sweep seeded `seed`: same inputs, same case, anywhere.
Case generate_case(std::uint64_t seed, std::uint64_t index);
// A command's verb (write, read, discard, flush) and byte range (0, 0 for flush).
void split_command(const std::string& cmd, std::string& verb, std::uint64_t& offset, std::uint64_t& bytes);

// The initial image content of a case (seeded bytes, not zeroes, so a read from
// the wrong place shows).
std::vector<std::uint8_t> initial_image(const Case& c);

// The limits as blkdebug options ("align=512,max-transfer=4096"), as blksim
// fault-node keys ("align = 512\nmax_transfer = 4096\n"), or for people
// ("align 512, max_transfer 4096"). Zero limits (none) are left out.
enum class LimitStyle : std::uint8_t { kBlkdebug, kToml, kHuman };
std::string format_limits(const Limits& l, LimitStyle style);

}  // namespace conformance
