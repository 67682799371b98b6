// The read path: padding to the node's alignment, fragmentation by max_transfer,
// zeroes past the end of the image.
#include <algorithm>
#include <climits>
#include <vector>

#include "engine/io.h"
#include "engine/io_internal.h"
#include "sim/invariant.h"

namespace engine {
// Forwards an aligned request to the driver, fragmenting it by max_transfer and
// filling the part past the end of the image with zeroes.
sim::Task<int> bdrv_aligned_preadv(BdrvChild& child, BdrvTrackedRequest& req, std::int64_t offset,
                                   std::uint64_t bytes, std::int64_t align, IoVector& qiov, unsigned flags) {
  BlockDriverState& bs = *child.bs;
  SIM_ASSERT(is_power_of_2(static_cast<std::uint64_t>(align)), "alignment must be a power of two");
  SIM_ASSERT((offset & (align - 1)) == 0, "unaligned offset reached bdrv_aligned_preadv");
  SIM_ASSERT((static_cast<std::int64_t>(bytes) & (align - 1)) == 0, "unaligned length reached bdrv_aligned_preadv");
  SIM_ASSERT(bytes == qiov.size(), "read vector size differs from the request");
  SIM_ASSERT((bs.open_flags & BDRV_O_NO_IO) == 0, "I/O on a node opened without I/O");
  SIM_ASSERT((flags & ~(BDRV_REQ_NO_SERIALISING | BDRV_REQ_COPY_ON_READ)) == 0, "unsupported read flags");
  const std::int64_t max_transfer = max_transfer_for(bs, align);

  if (!(flags & BDRV_REQ_NO_SERIALISING)) co_await wait_serialising_requests(req);

  const std::int64_t total_bytes = bdrv_getlength(bs);
  if (total_bytes < 0) co_return static_cast<int>(total_bytes);

  std::int64_t max_bytes = align_up(std::max<std::int64_t>(0, total_bytes - offset), align);
  const auto whole = static_cast<std::int64_t>(bytes);
  if (whole <= max_bytes && whole <= max_transfer) {
    int ret = co_await bdrv_driver_preadv(bs, static_cast<std::uint64_t>(offset), bytes, qiov, 0);
    co_return ret < 0 ? ret : 0;
  }

  std::int64_t remaining = whole;
  while (remaining > 0) {
    const std::int64_t done = whole - remaining;
    std::int64_t num;
    int ret = 0;
    if (max_bytes > 0) {
      num = std::min(remaining, std::min(max_bytes, max_transfer));
      SIM_ASSERT(num > 0, "read fragment of zero bytes");
      IoVector part;
      part.concat(qiov, static_cast<std::size_t>(done), static_cast<std::size_t>(num));
      ret = co_await bdrv_driver_preadv(bs, static_cast<std::uint64_t>(offset + done), static_cast<std::uint64_t>(num),
                                        part, 0);
      max_bytes -= num;
    } else {
      num = remaining;
      qiov.memset(static_cast<std::size_t>(done), 0, static_cast<std::size_t>(num));
    }
    if (ret < 0) co_return ret;
    remaining -= num;
  }
  co_return 0;
}

sim::Task<int> bdrv_co_preadv(BdrvChild& child, std::int64_t offset, std::uint64_t bytes, IoVector& qiov,
                              unsigned flags) {
  BlockDriverState& bs = *child.bs;
  if (bs.drv() == nullptr) co_return -ENOMEDIUM;
  int ret = bdrv_check_byte_request(bs, offset, bytes);
  if (ret < 0) co_return ret;
  SIM_ASSERT(qiov.size() == bytes, "read vector size differs from the request");

  bdrv_inc_in_flight(bs);
  const std::int64_t align = bs.bl.request_alignment;

  // Pad the request to the alignment with bounce buffers around the caller's vector.
  std::vector<std::uint8_t> head_buf;
  std::vector<std::uint8_t> tail_buf;
  IoVector local;
  bool use_local = false;
  std::int64_t head = offset & (align - 1);
  if (head != 0) {
    head_buf.assign(static_cast<std::size_t>(align), 0);
    local.add(absl::MakeSpan(head_buf.data(), static_cast<std::size_t>(head)));
    local.concat(qiov, 0, qiov.size());
    use_local = true;
    bytes += static_cast<std::uint64_t>(head);
    offset -= head;
  }
  std::int64_t tail = (offset + static_cast<std::int64_t>(bytes)) & (align - 1);
  if (tail != 0) {
    if (!use_local) {
      local.concat(qiov, 0, qiov.size());
      use_local = true;
    }
    tail_buf.assign(static_cast<std::size_t>(align), 0);
    local.add(absl::MakeSpan(tail_buf.data(), static_cast<std::size_t>(align - tail)));
    bytes = static_cast<std::uint64_t>(align_up(static_cast<std::int64_t>(bytes), align));
  }

  BdrvTrackedRequest req;
  co_await tracked_request_begin(req, bs, offset, bytes, TrackedType::kRead, "bdrv_co_preadv");
  ret = co_await bdrv_aligned_preadv(child, req, offset, bytes, align, use_local ? local : qiov, flags);
  co_await tracked_request_end(req, ret);
  bdrv_dec_in_flight(bs);
  co_return ret;
}

}  // namespace engine
