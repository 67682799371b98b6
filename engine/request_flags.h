// Request flags (QEMU's BdrvRequestFlags) and the sector arithmetic the engine uses.
#pragma once

#include <climits>
#include <cstdint>

namespace engine {

enum BdrvRequestFlags : unsigned {
  BDRV_REQ_COPY_ON_READ = 0x1,
  BDRV_REQ_ZERO_WRITE = 0x2,
  BDRV_REQ_MAY_UNMAP = 0x4,
  BDRV_REQ_NO_SERIALISING = 0x8,
  BDRV_REQ_FUA = 0x10,
  BDRV_REQ_WRITE_COMPRESSED = 0x20,
  BDRV_REQ_MASK = 0x3f,
};

inline constexpr int BDRV_SECTOR_BITS = 9;
inline constexpr std::int64_t BDRV_SECTOR_SIZE = 1 << BDRV_SECTOR_BITS;
// The largest request in sectors, so that its byte count fits in an int.
inline constexpr std::int64_t BDRV_REQUEST_MAX_SECTORS = INT_MAX >> BDRV_SECTOR_BITS;
inline constexpr std::int64_t BDRV_REQUEST_MAX_BYTES = BDRV_REQUEST_MAX_SECTORS << BDRV_SECTOR_BITS;

inline constexpr bool is_power_of_2(std::uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }
inline constexpr std::int64_t align_down(std::int64_t v, std::int64_t a) { return v / a * a; }
inline constexpr std::int64_t align_up(std::int64_t v, std::int64_t a) { return (v + a - 1) / a * a; }

}  // namespace engine
