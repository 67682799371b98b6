// Zero writes: the driver's write-zeroes split at pwrite_zeroes_alignment and
// capped by max_pwrite_zeroes; -ENOTSUP falls back to writing a zeroed bounce
// buffer capped by max_transfer; FUA becomes one flush at the end when not
// supported; an unaligned head or tail is a read-modify-write.
#include <algorithm>
#include <climits>
#include <vector>

#include <cstring>

#include "engine/driver_calls.h"
#include "engine/fixes.h"
#include "engine/io.h"
#include "engine/io_internal.h"
#include "engine/mutations.h"
#include "sim/invariant.h"
#include "sim/probe.h"

namespace engine {

namespace {
// Code probes (sim/probe.h).
const sim::Probe kProbeZeroFallback("zero.fallback", "a zero write fell back to writing zeroes after -ENOTSUP");
const sim::Probe kProbeZeroHead("zero.head_piece", "a zero write sent its unaligned head (to pwrite_zeroes_alignment) alone");
const sim::Probe kProbeZeroTail("zero.tail_shortened", "a zero write stopped its bulk at the last aligned offset");
const sim::Probe kProbeZeroSplit("zero.split_by_max", "a zero write split by max_pwrite_zeroes");
const sim::Probe kProbeZeroFallbackLeftUnaligned(
    "zero.fallback_left_unaligned",
    "a capped fallback write of zeroes left the rest of a piece starting off the alignment (zero-fallback-unaligned's site)");
const sim::Probe kProbeZeroFallbackCapped("zero.fallback_capped", "a fallback write of zeroes capped by max_transfer or the bounce buffer");
const sim::Probe kProbeZeroFuaFlush("zero.fua_flush", "a FUA zero write the driver could not do with FUA ended with a flush");
const sim::Probe kProbeZeroRmwHead("zero.rmw_head", "an unaligned zero write read its head block to merge it");
const sim::Probe kProbeZeroRmwTail("zero.rmw_tail", "an unaligned zero write read its tail block to merge it");
const sim::Probe kProbeZeroUnmapDropped("zero.unmap_dropped", "BDRV_REQ_MAY_UNMAP dropped: the node was not opened with unmap");
const sim::Probe kProbeZeroFailed("zero.driver_failed", "a zero write failed at the driver (not -ENOTSUP)");
}  // namespace


// The largest zeroed bounce buffer a fallback uses.
inline constexpr int kMaxWriteZeroesBounceBuffer = 32768 << BDRV_SECTOR_BITS;

sim::Task<int> bdrv_co_do_pwrite_zeroes(BlockDriverState& bs, std::int64_t offset, int bytes, unsigned flags) {
  BlockDriver& drv = *bs.drv();
  int ret = 0;
  bool need_flush = false;
  int max_write_zeroes = min_non_zero<int>(bs.bl.max_pwrite_zeroes, INT_MAX);
  const int alignment = static_cast<int>(std::max(bs.bl.pwrite_zeroes_alignment, bs.bl.request_alignment));
  const int max_transfer = min_non_zero<int>(static_cast<int>(bs.bl.max_transfer), kMaxWriteZeroesBounceBuffer);
  SIM_CHECK("do_pwrite_zeroes.alignment_multiple", alignment % static_cast<int>(bs.bl.request_alignment) == 0,
            "pwrite_zeroes_alignment must be a multiple of request_alignment");
  int head = static_cast<int>(offset % alignment);
  const int tail = static_cast<int>((offset + bytes) % alignment);
  max_write_zeroes = max_write_zeroes / alignment * alignment;
  SIM_CHECK("do_pwrite_zeroes.max_at_least_alignment", max_write_zeroes >= static_cast<int>(bs.bl.request_alignment),
            "max_pwrite_zeroes below request_alignment");

  BlockBuffer bounce;  // zeroed; kept for the next chunk only when max_transfer big
  while (bytes > 0 && ret == 0) {
    int num = bytes;
    // Drivers may expect the bulk of a request aligned and unaligned pieces not
    // to cross cluster boundaries.
    if (head != 0) {
      // A small request up to the first aligned offset, also capped by
      // max_transfer for the sake of a fallback.
      num = std::min(std::min(bytes, max_transfer), alignment - head);
      kProbeZeroHead.hit();
      head = (head + num) % alignment;
      SIM_CHECK("do_pwrite_zeroes.head_below_max", num < max_write_zeroes, "zero-write head above the maximum");
    } else if (tail != 0 && num > alignment) {
      num -= tail;  // shorten to the last aligned offset
      kProbeZeroTail.hit();
    }
    if (num > max_write_zeroes) kProbeZeroSplit.hit();
    num = std::min(num, max_write_zeroes);

    ret = -ENOTSUP;
    if (drv.implements(kCoPwriteZeroes)) {
      static sim::TraceLabel kPwriteZeroesOp("pwrite_zeroes");
      const DriverOpTrace t = trace_driver_issue(bs, kPwriteZeroesOp, static_cast<std::uint64_t>(offset),
                                                 static_cast<std::uint64_t>(num), flags & bs.supported_zero_flags);
      ret = co_await drv.co_pwrite_zeroes(bs, offset, num, flags & bs.supported_zero_flags);
      trace_driver_complete(bs, t, ret);
      if (ret != -ENOTSUP && (flags & BDRV_REQ_FUA) && !(bs.supported_zero_flags & BDRV_REQ_FUA)) need_flush = true;
      if (ret < 0 && ret != -ENOTSUP) kProbeZeroFailed.hit();
    } else {
      SIM_CHECK("do_pwrite_zeroes.no_zero_flags_without_support", bs.supported_zero_flags == 0,
                "supported_zero_flags without co_pwrite_zeroes");
    }

    if (ret == -ENOTSUP && !mutated(Mutant::kNoZeroFallback)) {
      // Fall back to writing a buffer of zeroes.
      kProbeZeroFallback.hit();
      unsigned write_flags = flags & ~BDRV_REQ_ZERO_WRITE;
      if ((flags & BDRV_REQ_FUA) && !(bs.supported_write_flags & BDRV_REQ_FUA)) {
        // One flush at the end rather than one per chunk.
        write_flags &= ~BDRV_REQ_FUA;
        need_flush = true;
      }
      if (num > max_transfer) kProbeZeroFallbackCapped.hit();
      const int wanted = num;
      num = std::min(num, max_transfer);
      // The reference goes on from here with the head it computed at the
      // start: a rest that starts off the alignment is sent whole, as if it
      // were aligned bulk (zero-fallback-unaligned).
      if (num < wanted && (offset + num) % alignment != 0) {
        kProbeZeroFallbackLeftUnaligned.hit();
        if (fixed(Fix::kZeroFallbackRealigns)) head = static_cast<int>((offset + num) % alignment);
      }
      if (!bounce) {
        bounce = qemu_try_blockalign(bs, static_cast<std::size_t>(num));
        if (!bounce) {
          ret = -ENOMEM;
          break;
        }
        std::memset(bounce.data(), 0, static_cast<std::size_t>(num));
      }
      IoVector qiov(absl::MakeSpan(bounce.data(), static_cast<std::size_t>(num)));
      ret = co_await bdrv_driver_pwritev(bs, static_cast<std::uint64_t>(offset), static_cast<std::uint64_t>(num), qiov,
                                         write_flags);
      // Kept only if big enough for every later chunk.
      if (num < max_transfer) bounce = BlockBuffer();
    }
    offset += num;
    bytes -= num;
  }
  if (ret == 0 && need_flush) {
    kProbeZeroFuaFlush.hit();
    ret = co_await bdrv_co_flush(bs);
  }
  co_return ret;
}

sim::Task<int> bdrv_co_do_zero_pwritev(BdrvChild& child, std::int64_t offset, std::uint64_t bytes, unsigned flags,
                                       BdrvTrackedRequest& req) {
  BlockDriverState& bs = *child.bs;
  const std::int64_t align = bs.bl.request_alignment;
  const auto a = static_cast<std::size_t>(align);
  const auto head_padding = static_cast<std::uint64_t>(offset & (align - 1));
  const auto tail_padding =
      static_cast<std::uint64_t>((align - (offset + static_cast<std::int64_t>(bytes))) & (align - 1));
  SIM_CHECK("zero_pwritev.zero_flag", (flags & BDRV_REQ_ZERO_WRITE) != 0, "zero write without BDRV_REQ_ZERO_WRITE");
  int ret = 0;
  BlockBuffer buf;
  if (head_padding != 0 || tail_padding != 0) buf = qemu_blockalign(bs, a);
  IoVector local(absl::MakeSpan(buf.data(), buf.size()));

  if (head_padding != 0) {
    const std::uint64_t zero_bytes = std::min<std::uint64_t>(bytes, a - head_padding);
    // Read-modify-write of the block before the aligned part.
    mark_request_serialising(req, a);
    co_await wait_serialising_requests(req);
    co_await bdrv_debug_event(bs, BlkdebugEvent::kPwritevRmwHead);
    kProbeZeroRmwHead.hit();
    ret = co_await bdrv_aligned_preadv(child, req, offset & ~(align - 1), a, align, local, 0);
    if (ret < 0) co_return ret;
    co_await bdrv_debug_event(bs, BlkdebugEvent::kPwritevRmwAfterHead);
    std::memset(buf.data() + head_padding, 0, zero_bytes);
    ret = co_await bdrv_aligned_pwritev(child, req, offset & ~(align - 1), a, align, &local,
                                        flags & ~BDRV_REQ_ZERO_WRITE);
    if (ret < 0) co_return ret;
    offset += static_cast<std::int64_t>(zero_bytes);
    bytes -= zero_bytes;
  }

  SIM_CHECK("zero_pwritev.middle_aligned", bytes == 0 || (offset & (align - 1)) == 0,
            "zero write middle not aligned after the head");
  if (bytes >= a) {
    // The aligned middle.
    const std::uint64_t aligned_bytes = bytes & ~static_cast<std::uint64_t>(align - 1);
    ret = co_await bdrv_aligned_pwritev(child, req, offset, aligned_bytes, align, nullptr, flags);
    if (ret < 0) co_return ret;
    bytes -= aligned_bytes;
    offset += static_cast<std::int64_t>(aligned_bytes);
  }

  SIM_CHECK("zero_pwritev.tail_aligned", bytes == 0 || (offset & (align - 1)) == 0,
            "zero write tail not aligned after the middle");
  if (bytes != 0) {
    SIM_CHECK("zero_pwritev.tail_size", a == tail_padding + bytes, "zero write tail has the wrong size");
    // Read-modify-write of the block after the aligned part.
    mark_request_serialising(req, a);
    co_await wait_serialising_requests(req);
    co_await bdrv_debug_event(bs, BlkdebugEvent::kPwritevRmwTail);
    kProbeZeroRmwTail.hit();
    ret = co_await bdrv_aligned_preadv(child, req, offset, a, align, local, 0);
    if (ret < 0) co_return ret;
    co_await bdrv_debug_event(bs, BlkdebugEvent::kPwritevRmwAfterTail);
    std::memset(buf.data(), 0, bytes);
    ret = co_await bdrv_aligned_pwritev(child, req, offset, a, align, &local, flags & ~BDRV_REQ_ZERO_WRITE);
  }
  co_return ret;
}

sim::Task<int> bdrv_co_pwrite_zeroes(BdrvChild& child, std::int64_t offset, int bytes, unsigned flags) {
  if (!(child.bs->open_flags & BDRV_O_UNMAP) && (flags & BDRV_REQ_MAY_UNMAP)) {
    kProbeZeroUnmapDropped.hit();
    flags &= ~BDRV_REQ_MAY_UNMAP;
  }
  co_return co_await bdrv_co_pwritev(child, offset, static_cast<std::uint64_t>(bytes), nullptr,
                                     BDRV_REQ_ZERO_WRITE | flags);
}

}  // namespace engine
