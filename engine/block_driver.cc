#include "engine/block_driver.h"

#include "engine/errors.h"
#include "sim/invariant.h"

namespace engine {

// The engine calls these only after has_X() said yes; reaching one is an engine bug.
sim::Task<int> BlockDriver::co_flush(BlockDriverState&) {
  SIM_ASSERT(false, "co_flush called on a driver without it");
  co_return -ENOTSUP;
}
sim::Task<int> BlockDriver::co_flush_to_os(BlockDriverState&) {
  SIM_ASSERT(false, "co_flush_to_os called on a driver without it");
  co_return -ENOTSUP;
}
sim::Task<int> BlockDriver::co_flush_to_disk(BlockDriverState&) {
  SIM_ASSERT(false, "co_flush_to_disk called on a driver without it");
  co_return -ENOTSUP;
}

}  // namespace engine
