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

// QEMU 6.0's limit on any request's end (BDRV_MAX_ALIGNMENT is the largest
// alignment a node may ask): used only by the fix of request-end-overflow.
inline constexpr std::int64_t BDRV_MAX_ALIGNMENT = 1LL << 30;
inline constexpr std::int64_t BDRV_MAX_LENGTH = INT64_MAX / BDRV_MAX_ALIGNMENT * BDRV_MAX_ALIGNMENT;

inline constexpr bool is_power_of_2(std::uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }
// QEMU_ALIGN_DOWN / QEMU_ALIGN_UP: by division, for any positive a.
inline constexpr std::int64_t align_down(std::int64_t v, std::int64_t a) { return v / a * a; }
inline constexpr std::int64_t align_up(std::int64_t v, std::int64_t a) { return (v + a - 1) / a * a; }
// ROUND_UP: by mask, for a power of two. The two differ only where `v + a - 1`
// wrapped past INT64_MAX (QEMU builds with -fwrapv, and so does blksim): the
// mask gives INT64_MIN where the division gives INT64_MIN + a. The reference
// uses each at its own sites, so the port does too.
inline constexpr std::int64_t round_up(std::int64_t v, std::int64_t a) { return (v + a - 1) & -a; }

}  // namespace engine
