// The roles block.c of the reference's time gives a node's own children
// (child_file, child_format and child_backing): whatever else they do, all of
// them forward drains to the parent node. Draining a node therefore drains
// every node above it, each of which drains its own subtree and tells its own
// parents, up to the root users. (QEMU 2.12 replaced this with subtree
// drains; the port keeps the reference's behaviour and its costs.)
#include "engine/block_driver_state.h"
#include "engine/drain.h"
#include "engine/fixes.h"
#include "engine/io_internal.h"
#include "sim/invariant.h"
#include "sim/probe.h"

namespace engine {
namespace {

const sim::Probe kProbeResizeBelowFilter("resize.below_filter",
                                         "a node under a filter was resized: the filter is not told (resize-below-filter's site)");

BlockDriverState& parent_node(BdrvChild& child) {
  SIM_CHECK("child_role.parent_node", child.parent != nullptr, "a node child role on a root edge: " + child.name);
  return *child.parent;
}

// bdrv_child_cb_drained_begin / _end.
void child_cb_drained_begin(BdrvChild& child) { bdrv_drained_begin(parent_node(child)); }
void child_cb_drained_end(BdrvChild& child) { bdrv_drained_end(parent_node(child)); }

// The reference's roles have no resize callback: a node resized under a
// filter leaves the filter's length and the filter's parents as they were
// (known defect resize-below-filter). QEMU 10.2 (cbadaf57a7) refreshes a
// parent whose filtered child was resized, and tells its parents in turn.
void child_cb_resize(BdrvChild& child) {
  BlockDriverState& parent = parent_node(child);
  if (parent.drv() == nullptr || !parent.drv()->filters_child(parent, child)) return;
  kProbeResizeBelowFilter.hit();
  if (!fixed(Fix::kResizeBelowFilter)) return;
  refresh_total_sectors(parent, parent.total_sectors);  // best effort, as there
  bdrv_parent_cb_resize(parent);
}

}  // namespace

const BdrvChildRole child_file{&child_cb_drained_begin, &child_cb_drained_end, &child_cb_resize};
const BdrvChildRole child_backing{&child_cb_drained_begin, &child_cb_drained_end, &child_cb_resize};

}  // namespace engine
