#include "engine/debug_event.h"

#include <array>

#include "engine/block_driver_state.h"

namespace engine {
namespace {
constexpr std::array<std::string_view, 15> kNames = {
    "flush_to_os", "flush_to_disk", "pwritev_rmw_head", "pwritev_rmw_after_head", "pwritev_rmw_tail",
    "pwritev_rmw_after_tail", "pwritev", "pwritev_zero", "pwritev_done", "read_aio", "write_aio",
    "cow_read", "cow_write", "cluster_alloc", "l2_update",
};
}  // namespace

std::string_view blkdebug_event_name(BlkdebugEvent event) { return kNames[static_cast<std::size_t>(event)]; }

bool blkdebug_event_from_name(std::string_view name, BlkdebugEvent* event) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) {
      *event = static_cast<BlkdebugEvent>(i);
      return true;
    }
  }
  return false;
}

sim::Task<void> bdrv_debug_event(BlockDriverState& bs, BlkdebugEvent event) {
  if (bs.drv() != nullptr && bs.drv()->implements(kDebugEvent)) co_await bs.drv()->debug_event(bs, event);
}

sim::Task<void> bdrv_debug_event(BdrvChild* child, BlkdebugEvent event) {
  if (child != nullptr) co_await bdrv_debug_event(*child->bs, event);
}

}  // namespace engine
