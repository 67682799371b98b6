#include "drivers/driver_contract.h"

#include "sim/invariant.h"
#include "sim/str.h"

namespace drivers {

void check_request_limits(const engine::BlockDriverState& bs, RequestKind kind, std::uint64_t offset,
                          std::uint64_t bytes, const engine::IoVector* qiov) {
  const engine::BlockLimits& bl = bs.bl;
  switch (kind) {
    case RequestKind::kRead:
    case RequestKind::kWrite: {
      const char* what = kind == RequestKind::kRead ? "read" : "write";
      const std::uint64_t align = bl.request_alignment;
      SIM_CHECK("driver.request_alignment", offset % align == 0 && bytes % align == 0,
                sim::cat("node ", bs.node_name(), ": driver ", what, " [", offset, ", +", bytes,
                         ") not aligned to request_alignment ", align));
      SIM_CHECK("driver.max_transfer", bl.max_transfer == 0 || bytes <= bl.max_transfer,
                sim::cat("node ", bs.node_name(), ": driver ", what, " of ", bytes, " bytes at ", offset,
                         " exceeds max_transfer ", bl.max_transfer));
      SIM_ASSERT(qiov != nullptr, "reads and writes are checked with their vector");
      SIM_CHECK("driver.qiov_size", qiov->size() == bytes,
                sim::cat("node ", bs.node_name(), ": driver ", what, " of ", bytes, " bytes at ", offset,
                         " with a vector of ", qiov->size(), " bytes"));
      SIM_CHECK("driver.max_iov", bl.max_iov <= 0 || qiov->count() <= static_cast<std::size_t>(bl.max_iov),
                sim::cat("node ", bs.node_name(), ": driver ", what, " of ", bytes, " bytes at ", offset, " in ",
                         qiov->count(), " buffers exceeds max_iov ", bl.max_iov));
      break;
    }
    case RequestKind::kZero:
      SIM_CHECK("driver.max_pwrite_zeroes",
                bl.max_pwrite_zeroes <= 0 || bytes <= static_cast<std::uint64_t>(bl.max_pwrite_zeroes),
                sim::cat("node ", bs.node_name(), ": driver zero write of ", bytes, " bytes at ", offset,
                         " exceeds max_pwrite_zeroes ", bl.max_pwrite_zeroes));
      break;
    case RequestKind::kDiscard:
      SIM_CHECK("driver.max_pdiscard", bl.max_pdiscard <= 0 || bytes <= static_cast<std::uint64_t>(bl.max_pdiscard),
                sim::cat("node ", bs.node_name(), ": driver discard of ", bytes, " bytes at ", offset,
                         " exceeds max_pdiscard ", bl.max_pdiscard));
      break;
  }
}

void FlushGate::enter(const engine::BlockDriverState& bs) {
  SIM_CHECK("driver.one_flush_at_a_time", active_ == 0,
            sim::cat("node ", bs.node_name(), ": a flush reached the driver while another was in flight"));
  ++active_;
}

void FlushGate::leave() {
  SIM_ASSERT(active_ > 0, "FlushGate::leave without enter");
  --active_;
}

}  // namespace drivers
