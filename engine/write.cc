// The write path: read-modify-write of unaligned heads and tails (serialised
// against overlapping requests), before-write notifiers, detect-zeroes,
// compressed writes, fragmentation by max_transfer with an emulated FUA only on
// the last fragment, and the bookkeeping every write leaves behind (write_gen,
// dirty bitmaps, wr_highest_offset, growth of total_sectors).
#include <algorithm>
#include <vector>

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
const sim::Probe kProbeRmwHead("write.rmw_head", "an unaligned write read its head block to merge it");
const sim::Probe kProbeRmwTail("write.rmw_tail", "an unaligned write read its tail block to merge it");
const sim::Probe kProbeRmwOneBlock("write.rmw_one_block", "a write inside one aligned block: the head read served as the tail");
const sim::Probe kProbeWriteFragments("write.fragments", "a write split by max_transfer");
const sim::Probe kProbeFuaLastFragment("write.fua_last_fragment_only", "emulated FUA dropped from all but the last fragment");
const sim::Probe kProbeDetectZeroes("write.detect_zeroes", "detect-zeroes turned a write into a zero write");
const sim::Probe kProbeNotifierFailed("write.notifier_failed", "a before-write notifier failed the write");
const sim::Probe kProbeWriteFailed("write.failed", "a write failed at the driver level");
// The sites of two known defects (scenarios/known_defects.cc): a failure
// whose runs never reached them is neither defect's consequence.
const sim::Probe kProbeLateSerialisingWait("write.late_serialising_wait",
                                           "a serialising write waited again after its read-modify-write reads");
const sim::Probe kProbeTailWaitAfterHeadRead("write.tail_wait_after_head_read",
                                             "an unaligned write's tail waited after its head was read");
}  // namespace


sim::Task<int> bdrv_aligned_pwritev(BdrvChild& child, BdrvTrackedRequest& req, std::int64_t offset,
                                    std::uint64_t bytes, std::int64_t align, IoVector* qiov, unsigned flags) {
  BlockDriverState& bs = *child.bs;
  BlockDriver& drv = *bs.drv();
  if (bdrv_has_readonly_bitmaps(bs)) co_return -EPERM;
  SIM_CHECK("aligned_pwritev.align_pow2", is_power_of_2(static_cast<std::uint64_t>(align)),
            "alignment must be a power of two");
  SIM_CHECK("aligned_pwritev.offset_aligned", (offset & (align - 1)) == 0,
            "unaligned offset reached bdrv_aligned_pwritev");
  SIM_CHECK("aligned_pwritev.bytes_aligned", (static_cast<std::int64_t>(bytes) & (align - 1)) == 0,
            "unaligned length reached bdrv_aligned_pwritev");
  SIM_CHECK("aligned_pwritev.qiov_size", qiov == nullptr || bytes == qiov->size(),
            "write vector size differs from the request");
  SIM_CHECK("aligned_pwritev.io_allowed", (bs.open_flags & BDRV_O_NO_IO) == 0, "I/O on a node opened without I/O");
  SIM_CHECK("aligned_pwritev.flags", (flags & ~BDRV_REQ_MASK) == 0, "unknown request flags");
  const std::int64_t end_sector =
      align_up(offset + static_cast<std::int64_t>(bytes), BDRV_SECTOR_SIZE) >> BDRV_SECTOR_BITS;
  const std::int64_t max_transfer = max_transfer_for(bs, align);

  bool waited = co_await wait_serialising_requests(req);
  // A serialising request waited before its read-modify-write reads; waiting now
  // would mean its padding was read while a conflicting write ran.
  if (waited && req.serialising) kProbeLateSerialisingWait.hit();
  SIM_CHECK("aligned_pwritev.no_late_serialising_wait", !waited || !req.serialising || fixed(Fix::kLateWaitUnasserted),
            "serialising write waited after its RMW reads: " + req.describe());
  // The reference's two assertions. Where the write's range wrapped past
  // INT64_MAX (known defect request-end-overflow) they fail by that wrap, and
  // are named apart so the defect is told from any other cause.
  const bool wrapped = offset < 0 || offset + static_cast<std::int64_t>(bytes) < 0;
  SIM_CHECK(wrapped ? "aligned_pwritev.within_overlap_start.wrapped" : "aligned_pwritev.within_overlap_start",
            req.overlap_offset <= offset, "write starts before its tracked range");
  SIM_CHECK(wrapped ? "aligned_pwritev.within_overlap_end.wrapped" : "aligned_pwritev.within_overlap_end",
            offset + static_cast<std::int64_t>(bytes) <=
                req.overlap_offset + static_cast<std::int64_t>(req.overlap_bytes),
            "write ends after its tracked range");

  int ret = bdrv_notify_inside_request() ? co_await bdrv_notify_before_write(bs, req) : 0;

  // detect-zeroes: a write of zeroes becomes a zero write (and may unmap).
  if (ret == 0 && bs.detect_zeroes != DetectZeroes::kOff && !(flags & BDRV_REQ_ZERO_WRITE) &&
      drv.implements(kCoPwriteZeroes) && qiov != nullptr && qiov->is_zero()) {
    flags |= BDRV_REQ_ZERO_WRITE;
    kProbeDetectZeroes.hit();
    if (bs.detect_zeroes == DetectZeroes::kUnmap) flags |= BDRV_REQ_MAY_UNMAP;
  }

  const auto whole = static_cast<std::int64_t>(bytes);
  if (ret < 0) {
    // A notifier failed the request: nothing reaches the driver.
    kProbeNotifierFailed.hit();
  } else if (flags & BDRV_REQ_ZERO_WRITE) {
    co_await bdrv_debug_event(bs, BlkdebugEvent::kPwritevZero);
    ret = co_await bdrv_co_do_pwrite_zeroes(bs, offset, static_cast<int>(bytes), flags);
  } else if (flags & BDRV_REQ_WRITE_COMPRESSED) {
    ret = co_await bdrv_driver_pwritev_compressed(bs, static_cast<std::uint64_t>(offset), bytes, *qiov);
  } else if (whole <= max_transfer) {
    co_await bdrv_debug_event(bs, BlkdebugEvent::kPwritev);
    ret = co_await bdrv_driver_pwritev(bs, static_cast<std::uint64_t>(offset), bytes, *qiov, flags);
  } else {
    co_await bdrv_debug_event(bs, BlkdebugEvent::kPwritev);
    kProbeWriteFragments.hit();
    std::int64_t remaining = whole;
    while (remaining > 0) {
      const std::int64_t done = whole - remaining;
      const std::int64_t num = std::min(remaining, max_transfer);
      SIM_CHECK("aligned_pwritev.fragment_nonzero", num > 0, "write fragment of zero bytes");
      unsigned local_flags = flags;
      // Emulated FUA is a flush: one after the last fragment is enough.
      if (num < remaining && (flags & BDRV_REQ_FUA) && !(bs.supported_write_flags & BDRV_REQ_FUA)) {
        local_flags &= ~BDRV_REQ_FUA;
        kProbeFuaLastFragment.hit();
      }
      IoVector part;
      part.concat(*qiov, static_cast<std::size_t>(done), static_cast<std::size_t>(num));
      ret = co_await bdrv_driver_pwritev(bs, static_cast<std::uint64_t>(offset + done),
                                         static_cast<std::uint64_t>(num), part, local_flags);
      if (ret < 0) break;
      remaining -= num;
    }
  }

  if (ret < 0 && mutated(Mutant::kSwallowWriteError)) ret = 0;
  co_await bdrv_debug_event(bs, BlkdebugEvent::kPwritevDone);
  // Even a failed write may have changed the disk: it counts for flushing and
  // for dirty tracking.
  ++bs.write_gen;
  bdrv_set_dirty(bs, offset, whole);
  bs.wr_highest_offset = std::max(bs.wr_highest_offset, static_cast<std::uint64_t>(offset) + bytes);
  if (ret < 0) kProbeWriteFailed.hit();
  if (ret >= 0) {
    bs.total_sectors = std::max(bs.total_sectors, end_sector);
    ret = 0;
  } else if (mutated(Mutant::kFlattenWriteErrno)) {
    ret = -EIO;
  }
  co_return ret;
}

sim::Task<int> bdrv_co_pwritev(BdrvChild& child, std::int64_t offset, std::uint64_t bytes, IoVector* qiov,
                               unsigned flags) {
  BlockDriverState& bs = *child.bs;
  if (bs.drv() == nullptr) co_return -ENOMEDIUM;
  if (bs.read_only) co_return -EPERM;
  SIM_CHECK("co_pwritev.active", (bs.open_flags & BDRV_O_INACTIVE) == 0, "write to an inactive node " + bs.node_name());
  int ret = bdrv_check_byte_request(bs, offset, bytes);
  if (ret < 0) co_return ret;
  SIM_CHECK("co_pwritev.qiov_size", qiov == nullptr || qiov->size() == bytes,
            "write vector size differs from the request");

  bdrv_inc_in_flight(bs);
  ret = co_await bdrv_notify_before_request(bs, offset, bytes);
  if (ret < 0) {
    bdrv_dec_in_flight(bs);
    co_return ret;
  }
  // The tracked request covers the RMW reads too, so that they serialise with it.
  BdrvTrackedRequest req;
  static sim::TraceLabel kZeroes("bdrv_co_pwrite_zeroes");
  static sim::TraceLabel kWritev("bdrv_co_pwritev");
  co_await tracked_request_begin(req, bs, offset, bytes, TrackedType::kWrite, qiov == nullptr ? kZeroes : kWritev);
  const std::int64_t align = bs.bl.request_alignment;
  const auto a = static_cast<std::size_t>(align);
  BlockBuffer head_buf;
  BlockBuffer tail_buf;
  IoVector local;
  bool use_local = false;
  // With Fix::kPaddedMaxIov: the caller's leading bytes copied into one buffer,
  // and whether a tail buffer will follow them.
  std::vector<std::uint8_t> collapsed_buf;
  const std::size_t tail_parts = ((offset + static_cast<std::int64_t>(bytes)) & (align - 1)) != 0 ? 1 : 0;
  const auto append_caller = [&](std::size_t parts_after) {
    if (local.count() + qiov->count() + parts_after > static_cast<std::size_t>(bs.bl.max_iov)) kProbePaddedPastMaxIov.hit();
    if (fixed(Fix::kPaddedMaxIov)) {
      concat_collapsing(local, *qiov, parts_after, static_cast<std::size_t>(bs.bl.max_iov), collapsed_buf);
    } else {
      local.concat(*qiov, 0, qiov->size());  // the reference, whatever max_iov says
    }
  };

  if (qiov == nullptr) {
    ret = co_await bdrv_co_do_zero_pwritev(child, offset, bytes, flags, req);
    goto out;
  }

  // With Fix::kPaddingWaitsOnce (QEMU 4.2): one wait before both reads.
  if (((offset & (align - 1)) != 0 || tail_parts != 0) && fixed(Fix::kPaddingWaitsOnce)) {
    mark_request_serialising(req, static_cast<std::uint64_t>(align));
    co_await wait_serialising_requests(req);
  }

  if (offset & (align - 1)) {
    mark_request_serialising(req, static_cast<std::uint64_t>(align));
    const bool unserialised = mutated(Mutant::kRmwHeadUnserialised);
    if (!fixed(Fix::kPaddingWaitsOnce) && !unserialised) co_await wait_serialising_requests(req);
    head_buf = qemu_blockalign(bs, a);
    IoVector head_qiov(absl::MakeSpan(head_buf.data(), a));
    kProbeRmwHead.hit();
    co_await bdrv_debug_event(bs, BlkdebugEvent::kPwritevRmwHead);
    ret = co_await bdrv_aligned_preadv(child, req, offset & ~(align - 1), a, align, head_qiov,
                                       unserialised ? static_cast<unsigned>(BDRV_REQ_NO_SERIALISING) : 0u);
    if (ret < 0) goto out;
    co_await bdrv_debug_event(bs, BlkdebugEvent::kPwritevRmwAfterHead);
    const auto head = static_cast<std::size_t>(offset & (align - 1));
    local.add(absl::MakeSpan(head_buf.data(), head));
    append_caller(tail_parts);
    use_local = true;
    bytes += head;
    offset &= ~(align - 1);
    // A request within one block: the head buffer already holds the tail.
    if (bytes < a) {
      kProbeRmwOneBlock.hit();
      local.add(absl::MakeSpan(head_buf.data() + bytes, a - bytes));
      bytes = a;
    }
  }

  if ((offset + static_cast<std::int64_t>(bytes)) & (align - 1)) {
    mark_request_serialising(req, static_cast<std::uint64_t>(align));
    bool waited = false;
    if (!fixed(Fix::kPaddingWaitsOnce)) waited = co_await wait_serialising_requests(req);
    // The head RMW read already waited: a second wait here would mean its read is stale.
    if (waited && use_local) kProbeTailWaitAfterHeadRead.hit();
    SIM_CHECK("co_pwritev.tail_wait_before_head_read", !waited || !use_local,
              "tail RMW waited after the head RMW read: " + req.describe());
    tail_buf = qemu_blockalign(bs, a);
    IoVector tail_qiov(absl::MakeSpan(tail_buf.data(), a));
    kProbeRmwTail.hit();
    co_await bdrv_debug_event(bs, BlkdebugEvent::kPwritevRmwTail);
    ret = co_await bdrv_aligned_preadv(child, req, (offset + static_cast<std::int64_t>(bytes)) & ~(align - 1), a,
                                       align, tail_qiov, 0);
    if (ret < 0) goto out;
    co_await bdrv_debug_event(bs, BlkdebugEvent::kPwritevRmwAfterTail);
    if (!use_local) {
      append_caller(1);
      use_local = true;
    }
    const auto tail = static_cast<std::size_t>((offset + static_cast<std::int64_t>(bytes)) & (align - 1));
    local.add(absl::MakeSpan(tail_buf.data() + tail, a - tail));
    bytes = static_cast<std::uint64_t>(round_up(static_cast<std::int64_t>(bytes), align));
  }

  ret = co_await bdrv_aligned_pwritev(child, req, offset, bytes, align, use_local ? &local : qiov, flags);

out:
  co_await tracked_request_end(req, ret);
  bdrv_dec_in_flight(bs);
  co_return ret;
}

sim::Task<int> bdrv_co_writev(BdrvChild& child, std::int64_t sector_num, int nb_sectors, IoVector& qiov) {
  if (nb_sectors < 0 || nb_sectors > BDRV_REQUEST_MAX_SECTORS) co_return -EINVAL;
  co_return co_await bdrv_co_pwritev(child, sector_num << BDRV_SECTOR_BITS,
                                     static_cast<std::uint64_t>(nb_sectors) << BDRV_SECTOR_BITS, &qiov, 0);
}

}  // namespace engine
