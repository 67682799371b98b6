// The write path: read-modify-write of unaligned heads and tails (serialised
// against overlapping requests), fragmentation by max_transfer with FUA only on
// the last fragment when it is emulated, and the write generation.
#include <algorithm>
#include <climits>
#include <vector>

#include "engine/io.h"
#include "engine/io_internal.h"
#include "sim/invariant.h"

namespace engine {

// Forwards an aligned write to the driver, fragmenting it by max_transfer.
sim::Task<int> bdrv_aligned_pwritev(BdrvChild& child, BdrvTrackedRequest& req, std::int64_t offset,
                                    std::uint64_t bytes, std::int64_t align, IoVector& qiov, unsigned flags) {
  BlockDriverState& bs = *child.bs;
  SIM_ASSERT(is_power_of_2(static_cast<std::uint64_t>(align)), "alignment must be a power of two");
  SIM_ASSERT((offset & (align - 1)) == 0, "unaligned offset reached bdrv_aligned_pwritev");
  SIM_ASSERT((static_cast<std::int64_t>(bytes) & (align - 1)) == 0, "unaligned length reached bdrv_aligned_pwritev");
  SIM_ASSERT(bytes == qiov.size(), "write vector size differs from the request");
  SIM_ASSERT((bs.open_flags & BDRV_O_NO_IO) == 0, "I/O on a node opened without I/O");
  SIM_ASSERT((flags & ~BDRV_REQ_MASK) == 0, "unknown request flags");
  const std::int64_t end_sector = align_up(offset + static_cast<std::int64_t>(bytes), BDRV_SECTOR_SIZE) >>
                                  BDRV_SECTOR_BITS;
  const std::int64_t max_transfer = max_transfer_for(bs, align);

  bool waited = co_await wait_serialising_requests(req);
  // A serialising request waited before its read-modify-write reads; waiting now
  // would mean its padding was read while a conflicting write ran.
  SIM_ASSERT(!waited || !req.serialising, "serialising write waited after its RMW reads: " + req.describe());
  SIM_ASSERT(req.overlap_offset <= offset, "write starts before its tracked range");
  SIM_ASSERT(offset + static_cast<std::int64_t>(bytes) <=
                 req.overlap_offset + static_cast<std::int64_t>(req.overlap_bytes),
             "write ends after its tracked range");

  int ret;
  const auto whole = static_cast<std::int64_t>(bytes);
  if (whole <= max_transfer) {
    ret = co_await bdrv_driver_pwritev(bs, static_cast<std::uint64_t>(offset), bytes, qiov, flags);
  } else {
    ret = 0;
    std::int64_t remaining = whole;
    while (remaining > 0) {
      const std::int64_t done = whole - remaining;
      const std::int64_t num = std::min(remaining, max_transfer);
      SIM_ASSERT(num > 0, "write fragment of zero bytes");
      unsigned local_flags = flags;
      // Emulated FUA is a flush: one after the last fragment is enough.
      if (num < remaining && (flags & BDRV_REQ_FUA) && !(bs.supported_write_flags & BDRV_REQ_FUA)) {
        local_flags &= ~BDRV_REQ_FUA;
      }
      IoVector part;
      part.concat(qiov, static_cast<std::size_t>(done), static_cast<std::size_t>(num));
      ret = co_await bdrv_driver_pwritev(bs, static_cast<std::uint64_t>(offset + done),
                                         static_cast<std::uint64_t>(num), part, local_flags);
      if (ret < 0) break;
      remaining -= num;
    }
  }

  ++bs.write_gen;
  bs.wr_highest_offset = std::max(bs.wr_highest_offset, static_cast<std::uint64_t>(offset) + bytes);
  if (ret >= 0) {
    bs.total_sectors = std::max(bs.total_sectors, end_sector);
    ret = 0;
  }
  co_return ret;
}

sim::Task<int> bdrv_co_pwritev(BdrvChild& child, std::int64_t offset, std::uint64_t bytes, IoVector& qiov,
                               unsigned flags) {
  BlockDriverState& bs = *child.bs;
  if (bs.drv() == nullptr) co_return -ENOMEDIUM;
  if (bs.read_only) co_return -EPERM;
  SIM_ASSERT((bs.open_flags & BDRV_O_INACTIVE) == 0, "write to an inactive node " + bs.node_name());
  int ret = bdrv_check_byte_request(bs, offset, bytes);
  if (ret < 0) co_return ret;
  SIM_ASSERT(qiov.size() == bytes, "write vector size differs from the request");

  bdrv_inc_in_flight(bs);
  const std::int64_t align = bs.bl.request_alignment;
  // The tracked request covers the RMW reads too, so that they serialise with it.
  BdrvTrackedRequest req;
  co_await tracked_request_begin(req, bs, offset, bytes, TrackedType::kWrite, "bdrv_co_pwritev");

  std::vector<std::uint8_t> head_buf;
  std::vector<std::uint8_t> tail_buf;
  IoVector local;
  bool use_local = false;
  const auto a = static_cast<std::size_t>(align);

  if (offset & (align - 1)) {
    mark_request_serialising(req, static_cast<std::uint64_t>(align));
    co_await wait_serialising_requests(req);
    head_buf.assign(a, 0);
    IoVector head_qiov(absl::MakeSpan(head_buf));
    ret = co_await bdrv_aligned_preadv(child, req, offset & ~(align - 1), a, align, head_qiov, 0);
    if (ret < 0) goto out;
    {
      const auto head = static_cast<std::size_t>(offset & (align - 1));
      local.add(absl::MakeSpan(head_buf.data(), head));
      local.concat(qiov, 0, qiov.size());
      use_local = true;
      bytes += head;
      offset &= ~(align - 1);
      // A request within one block: the head buffer already holds the tail.
      if (bytes < a) {
        local.add(absl::MakeSpan(head_buf.data() + bytes, a - bytes));
        bytes = a;
      }
    }
  }

  if ((offset + static_cast<std::int64_t>(bytes)) & (align - 1)) {
    mark_request_serialising(req, static_cast<std::uint64_t>(align));
    bool waited = co_await wait_serialising_requests(req);
    SIM_ASSERT(!waited || !use_local, "tail RMW waited after the head RMW read: " + req.describe());
    tail_buf.assign(a, 0);
    IoVector tail_qiov(absl::MakeSpan(tail_buf));
    ret = co_await bdrv_aligned_preadv(child, req, (offset + static_cast<std::int64_t>(bytes)) & ~(align - 1), a,
                                       align, tail_qiov, 0);
    if (ret < 0) goto out;
    if (!use_local) {
      local.concat(qiov, 0, qiov.size());
      use_local = true;
    }
    const auto tail = static_cast<std::size_t>((offset + static_cast<std::int64_t>(bytes)) & (align - 1));
    local.add(absl::MakeSpan(tail_buf.data() + tail, a - tail));
    bytes = static_cast<std::uint64_t>(align_up(static_cast<std::int64_t>(bytes), align));
  }

  ret = co_await bdrv_aligned_pwritev(child, req, offset, bytes, align, use_local ? local : qiov, flags);

out:
  co_await tracked_request_end(req, ret);
  bdrv_dec_in_flight(bs);
  co_return ret;
}

}  // namespace engine
