// Debug events (QEMU's BLKDBG_*): points in the request layer where a driver such
// as blkdebug may inject a fault or hold the request at a breakpoint.
#pragma once

#include <string_view>

#include "sim/task.h"

namespace engine {

class BlockDriverState;
struct BdrvChild;

enum class BlkdebugEvent : unsigned char {
  kFlushToOs,
  kFlushToDisk,
  kPwritevRmwHead,
  kPwritevRmwAfterHead,
  kPwritevRmwTail,
  kPwritevRmwAfterTail,
  kPwritev,
  kPwritevZero,
  kPwritevDone,
  // Raised by format drivers on their file (and by fault for its own requests).
  kReadAio,
  kWriteAio,
  kCowRead,
  kCowWrite,
  kClusterAlloc,
  kL2Update,
};

// blkdebug's name for the event ("pwritev_rmw_after_head", ...).
std::string_view blkdebug_event_name(BlkdebugEvent event);
// Parses a name; false if unknown.
bool blkdebug_event_from_name(std::string_view name, BlkdebugEvent* event);

// bdrv_debug_event: tell the node's driver, if it listens (DriverOp kDebugEvent).
sim::Task<void> bdrv_debug_event(BlockDriverState& bs, BlkdebugEvent event);
// BLKDBG_EVENT(child, event): the same for a child edge that may be absent.
sim::Task<void> bdrv_debug_event(BdrvChild* child, BlkdebugEvent event);

}  // namespace engine
