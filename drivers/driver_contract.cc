#include "drivers/driver_contract.h"

#include <algorithm>

#include "sim/invariant.h"
#include "sim/str.h"

namespace drivers {

void check_node_has_driver(const engine::BlockDriverState& bs, std::string_view what) {
  // An ejected node has no driver (bs->drv == NULL): the request layer answers
  // -ENOMEDIUM before any driver is asked.
  SIM_CHECK("driver.call_on_ejected", bs.drv() != nullptr,
            sim::cat("node ", bs.node_name(), ": driver ", what, " on a node without its driver (ejected)"));
}

void check_direct_buffers(const engine::BlockDriverState& bs, const engine::IoVector& qiov) {
  const std::uint64_t memory = bs.bl.min_mem_alignment;
  const std::uint64_t block = bs.bl.request_alignment;
  for (const auto& part : qiov.parts()) {
    const auto address = reinterpret_cast<std::uintptr_t>(part.data());
    SIM_CHECK("driver.direct_buffer_address", address % memory == 0,
              sim::cat("node ", bs.node_name(), ": a direct-I/O buffer at address offset ", address % memory,
                       " is not aligned to min_mem_alignment ", memory, " (O_DIRECT: -EINVAL)"));
    // A length the reference's bdrv_qiov_is_aligned lets through by design
    // (a multiple of the memory alignment: known defect iov-length-alignment)
    // is named apart from any other.
    SIM_CHECK(part.size() % memory == 0 ? "driver.direct_buffer_length.memory_aligned" : "driver.direct_buffer_length",
              part.size() % block == 0,
              sim::cat("node ", bs.node_name(), ": a direct-I/O buffer of ", part.size(),
                       " bytes is not a whole number of logical blocks of ", block, " (O_DIRECT: -EINVAL)"));
  }
}

void check_request_limits(const engine::BlockDriverState& bs, RequestKind kind, std::uint64_t offset,
                          std::uint64_t bytes, const engine::IoVector* qiov) {
  check_node_has_driver(bs, kind == RequestKind::kRead ? "read" : "request");
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
    case RequestKind::kZero: {
      // block_int.h: drivers may expect the bulk of a zero write aligned to
      // pwrite_zeroes_alignment, and a smaller piece not to cross a boundary
      // of it (bdrv_co_do_pwrite_zeroes splits off the head and the tail).
      const std::uint64_t align = std::max<std::uint64_t>(bl.pwrite_zeroes_alignment, bl.request_alignment);
      SIM_CHECK("driver.zero_alignment",
                bytes < align ? offset / align == (offset + bytes - 1) / align || bytes == 0
                              : offset % align == 0 && bytes % align == 0,
                sim::cat("node ", bs.node_name(), ": driver zero write [", offset, ", +", bytes, ") ",
                         bytes < align ? "crosses a boundary of" : "not aligned to", " pwrite_zeroes_alignment ",
                         align));
      SIM_CHECK("driver.max_pwrite_zeroes",
                bl.max_pwrite_zeroes <= 0 || bytes <= static_cast<std::uint64_t>(bl.max_pwrite_zeroes),
                sim::cat("node ", bs.node_name(), ": driver zero write of ", bytes, " bytes at ", offset,
                         " exceeds max_pwrite_zeroes ", bl.max_pwrite_zeroes));
      break;
    }
    case RequestKind::kDiscard:
      SIM_CHECK("driver.max_pdiscard", bl.max_pdiscard <= 0 || bytes <= static_cast<std::uint64_t>(bl.max_pdiscard),
                sim::cat("node ", bs.node_name(), ": driver discard of ", bytes, " bytes at ", offset,
                         " exceeds max_pdiscard ", bl.max_pdiscard));
      break;
  }
}

void check_block_status_call(const engine::BlockDriverState& bs, std::int64_t sector_num, int nb_sectors) {
  check_node_has_driver(bs, "block status");
  SIM_CHECK("driver.block_status_range",
            sector_num >= 0 && nb_sectors > 0 && sector_num < bs.total_sectors && nb_sectors <= bs.total_sectors - sector_num,
            sim::cat("node ", bs.node_name(), ": driver block status of sectors [", sector_num, ", +", nb_sectors,
                     ") on a node of ", bs.total_sectors, " sectors"));
}

void check_request_flags(const engine::BlockDriverState& bs, RequestKind kind, unsigned flags) {
  SIM_ASSERT(kind == RequestKind::kWrite || kind == RequestKind::kZero, "only writes and zero writes take flags");
  const unsigned declared = kind == RequestKind::kWrite ? bs.supported_write_flags : bs.supported_zero_flags;
  SIM_CHECK("driver.declared_flags", (flags & ~declared) == 0,
            sim::cat("node ", bs.node_name(), ": driver ", kind == RequestKind::kWrite ? "write" : "zero write",
                     " with flags ", sim::hex(flags), " beyond the declared ", sim::hex(declared)));
}

void check_node_writable(const engine::BlockDriverState& bs, RequestKind kind) {
  const char* what = kind == RequestKind::kWrite ? "write" : kind == RequestKind::kZero ? "zero write" : "discard";
  SIM_CHECK("driver.write_on_read_only", !bs.read_only, sim::cat("node ", bs.node_name(), ": driver ", what, " on a read-only node"));
  SIM_CHECK("driver.write_on_inactive", (bs.open_flags & engine::BDRV_O_INACTIVE) == 0,
            sim::cat("node ", bs.node_name(), ": driver ", what, " on an inactive node"));
}

void FlushGate::enter(const engine::BlockDriverState& bs) {
  check_node_has_driver(bs, "flush");
  SIM_CHECK("driver.one_flush_at_a_time", active_ == 0,
            sim::cat("node ", bs.node_name(), ": a flush reached the driver while another was in flight"));
  ++active_;
}

void FlushGate::leave() {
  SIM_ASSERT(active_ > 0, "FlushGate::leave without enter");
  --active_;
}

}  // namespace drivers
