#include "engine/block_driver_state.h"

#include "engine/errors.h"
#include "engine/request_flags.h"
#include "sim/invariant.h"
#include "sim/world.h"

namespace engine {

BlockDriverState::BlockDriverState(std::string node_name, sim::AioContext& ctx, BlockDriver& drv,
                                   std::int64_t size_bytes)
    : reqs_lock(node_name + ".reqs_lock"),
      node_name_(std::move(node_name)),
      trace_label_(sim::World::current().trace().intern(node_name_)),
      ctx_(&ctx),
      drv_(&drv) {
  SIM_ASSERT(size_bytes >= 0, "node " + node_name_ + " has a negative size");
  total_sectors = align_up(size_bytes, BDRV_SECTOR_SIZE) >> BDRV_SECTOR_BITS;
}

BlockDriverState::~BlockDriverState() = default;

void bdrv_inc_in_flight(BlockDriverState& bs) { ++bs.in_flight; }

void bdrv_wakeup(BlockDriverState& bs) {
  // A thread polling this node from elsewhere sleeps in the main loop: kick it.
  if (bs.wakeup) sim::World::current().main_context().bh_schedule("bdrv_wakeup", [] {});
}

void bdrv_dec_in_flight(BlockDriverState& bs) {
  SIM_ASSERT(bs.in_flight > 0, "in_flight underflow on " + bs.node_name());
  --bs.in_flight;
  bdrv_wakeup(bs);
}

std::int64_t bdrv_getlength(const BlockDriverState& bs) { return bs.drv()->getlength(bs); }

int bdrv_check_byte_request(const BlockDriverState& bs, std::int64_t offset, std::uint64_t bytes) {
  if (bytes > static_cast<std::uint64_t>(BDRV_REQUEST_MAX_BYTES)) return -EIO;
  if (bs.drv() == nullptr) return -ENOMEDIUM;
  if (offset < 0) return -EIO;
  return 0;
}

}  // namespace engine
