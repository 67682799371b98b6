// Discard: advisory. A no-op without BDRV_O_UNMAP or driver support; otherwise
// the range is passed down fragmented at pdiscard_alignment (and at
// request_alignment inside the unaligned head and tail, since some devices
// coalesce unaligned requests), capped by max_pdiscard; -ENOTSUP is ignored.
#include <algorithm>
#include <climits>

#include "engine/fixes.h"
#include "engine/driver_calls.h"
#include "engine/io.h"
#include "engine/io_internal.h"
#include "engine/mutations.h"
#include "sim/invariant.h"
#include "sim/probe.h"
#include "sim/world.h"

namespace engine {

namespace {
// Code probes (sim/probe.h).
const sim::Probe kProbeDiscardUnsupported("discard.enotsup_ignored", "a discard piece the driver could not do (-ENOTSUP), ignored");
const sim::Probe kProbeDiscardDisabled("discard.disabled", "a discard on a node opened without unmap did nothing");
const sim::Probe kProbeDiscardNoDriver("discard.driver_has_none", "a discard on a driver without discard did nothing");
const sim::Probe kProbeDiscardReadOnly("discard.read_only", "a discard of a read-only node (-EPERM)");
const sim::Probe kProbeDiscardHead("discard.head_piece", "a discard sent its unaligned head alone");
const sim::Probe kProbeDiscardHeadSubAlign("discard.head_sub_alignment", "a discard head cut to a piece below request_alignment");
const sim::Probe kProbeDiscardTail("discard.tail_shortened", "a discard stopped its bulk at the last aligned cluster");
const sim::Probe kProbeDiscardTailSubAlign("discard.tail_sub_alignment", "a discard tail cut at request_alignment");
const sim::Probe kProbeDiscardSplit("discard.split_by_max", "a discard split by max_pdiscard");
const sim::Probe kProbeDiscardCallback("discard.callback", "a discard through a callback driver (aio_pdiscard)");
const sim::Probe kProbeDiscardPastSerialising("discard.past_serialising",
                                              "a discard went on past an overlapping serialising request it would wait for (discard-unserialised's site)");
const sim::Probe kProbeDiscardFailed("discard.failed", "a discard piece failed: the rest was not sent");
}  // namespace


sim::Task<int> bdrv_co_pdiscard(BlockDriverState& bs, std::int64_t offset, int bytes) {
  if (bs.drv() == nullptr) co_return -ENOMEDIUM;
  if (bdrv_has_readonly_bitmaps(bs)) co_return -EPERM;
  int ret = bdrv_check_byte_request(bs, offset, static_cast<std::uint64_t>(static_cast<unsigned>(bytes)));
  if (ret < 0) co_return ret;
  if (bs.read_only) {
    kProbeDiscardReadOnly.hit();
    co_return -EPERM;
  }
  SIM_CHECK("pdiscard.active", (bs.open_flags & BDRV_O_INACTIVE) == 0, "discard on an inactive node " + bs.node_name());
  // Disabled: nothing to do.
  if (!(bs.open_flags & BDRV_O_UNMAP)) {
    kProbeDiscardDisabled.hit();
    co_return 0;
  }
  BlockDriver& drv = *bs.drv();
  if (!drv.implements(kCoPdiscard) && !drv.implements(kAioPdiscard)) {
    kProbeDiscardNoDriver.hit();
    co_return 0;
  }

  const int request_alignment = static_cast<int>(bs.bl.request_alignment);
  const int align = static_cast<int>(std::max(bs.bl.pdiscard_alignment, bs.bl.request_alignment));
  SIM_CHECK("pdiscard.alignment_multiple", align % request_alignment == 0,
            "pdiscard_alignment must be a multiple of request_alignment");
  int head = static_cast<int>(offset % align);
  int tail = static_cast<int>((offset + bytes) % align);

  bdrv_inc_in_flight(bs);
  ret = co_await bdrv_notify_before_request(bs, offset, static_cast<std::uint64_t>(bytes));
  if (ret < 0) {
    bdrv_dec_in_flight(bs);
    co_return ret;
  }
  BdrvTrackedRequest req;
  static sim::TraceLabel kName("bdrv_co_pdiscard");
  co_await tracked_request_begin(req, bs, offset, static_cast<std::uint64_t>(bytes), TrackedType::kDiscard, kName);
  // The reference does not wait here (discard-unserialised).
  if (would_wait_serialising(req)) kProbeDiscardPastSerialising.hit();
  if (fixed(Fix::kDiscardSerialised)) co_await wait_serialising_requests(req);
  ret = bdrv_notify_inside_request() ? co_await bdrv_notify_before_write(bs, req) : 0;
  if (ret >= 0) {
    const int max_pdiscard = min_non_zero<int>(bs.bl.max_pdiscard, INT_MAX) / align * align;
    SIM_CHECK("pdiscard.max_at_least_alignment", max_pdiscard >= request_alignment,
              "max_pdiscard below request_alignment");
    bool failed = false;
    while (bytes > 0) {
      int num = bytes;
      if (head != 0) {
        // Small requests up to the alignment boundary.
        num = std::min(bytes, align - head);
        kProbeDiscardHead.hit();
        if (num % request_alignment != 0) {
          kProbeDiscardHeadSubAlign.hit();
          num %= request_alignment;
        }
        head = (head + num) % align;
        SIM_CHECK("pdiscard.head_below_max", num < max_pdiscard, "discard head above the maximum");
      } else if (tail != 0) {
        if (num > align) {
          num -= tail;  // shorten to the last aligned cluster
          kProbeDiscardTail.hit();
        } else if (tail % request_alignment != 0 && tail > request_alignment) {
          kProbeDiscardTailSubAlign.hit();
          tail %= request_alignment;
          num -= tail;
        }
      }
      if (num > max_pdiscard) kProbeDiscardSplit.hit();
      num = std::min(num, max_pdiscard);

      static sim::TraceLabel kPdiscardOp("pdiscard");
      const DriverOpTrace t = trace_driver_issue(bs, kPdiscardOp, static_cast<std::uint64_t>(offset),
                                                 static_cast<std::uint64_t>(num));
      if (drv.implements(kCoPdiscard)) {
        ret = co_await drv.co_pdiscard(bs, offset, num);
        trace_driver_complete(bs, t, ret);
      } else {
        kProbeDiscardCallback.hit();
        CoroutineIOCompletion co;
        BlockAIOCB* acb = drv.aio_pdiscard(bs, offset, num, co.callback());
        ret = co_await co.wait(acb, -EIO);
        trace_driver_complete(bs, t, ret);
        if (acb == nullptr) {
          failed = true;
          break;
        }
      }
      // Discard is advisory: a device that cannot is not an error.
      if (ret == -ENOTSUP) kProbeDiscardUnsupported.hit();
      if (ret != 0 && ret != -ENOTSUP) {
        kProbeDiscardFailed.hit();
        failed = true;
        break;
      }
      offset += num;
      bytes -= num;
    }
    if (!failed) ret = 0;
  }
  // Like a write, a discard changes what a flush must cover and what is dirty.
  if (!mutated(Mutant::kDiscardNoWriteGen)) ++bs.write_gen;
  bdrv_set_dirty(bs, req.offset, static_cast<std::int64_t>(req.bytes));
  co_await tracked_request_end(req, ret);
  bdrv_dec_in_flight(bs);
  co_return ret;
}

}  // namespace engine
