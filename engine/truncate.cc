// bdrv_truncate (block.c of the reference's time, which io.c's requests race
// with): resizing a node is a plain function, called from the main loop
// without draining and without a tracked request, so requests in flight run
// on across it. A filter without its own truncate passes it to its file and
// returns at once: its own length, dirty bitmaps and parents are left as they
// were (known defect truncate-filter-stale; QEMU 4.2 fixed it, 6b7e8f8b1c).
#include "engine/fixes.h"
#include "engine/io.h"
#include "engine/io_internal.h"
#include "engine/mutations.h"
#include "sim/invariant.h"
#include "sim/probe.h"

namespace engine {

namespace {
// Code probes (sim/probe.h).
const sim::Probe kProbeTruncateFilter("truncate.filter_passthrough", "a filter without truncate passed it to its file");
const sim::Probe kProbeTruncateUnsupported("truncate.unsupported", "a truncate the driver cannot do (-ENOTSUP)");
const sim::Probe kProbeTruncateReadOnly("truncate.read_only", "a truncate of a read-only node (-EACCES)");
const sim::Probe kProbeTruncateFailed("truncate.driver_failed", "the driver's truncate failed");
const sim::Probe kProbeTruncateParentResized("truncate.parent_resized", "a truncate told a parent role of the new size");
}  // namespace

// block.c's refresh_total_sectors: ask the driver, else trust the hint.
// (Every driver here has getlength, so the hint is never used.)
int refresh_total_sectors(BlockDriverState& bs, std::int64_t hint) {
  (void)hint;
  const std::int64_t length = bs.drv()->getlength(bs);
  if (length < 0) return static_cast<int>(length);
  bs.total_sectors = align_up(length, BDRV_SECTOR_SIZE) >> BDRV_SECTOR_BITS;
  return 0;
}

void bdrv_parent_cb_resize(BlockDriverState& bs) {
  // A copy: a callback may not change the parent list, but a copy keeps the
  // walk safe if it did (the reference walks the list itself).
  const std::vector<BdrvChild*> parents = bs.parents;
  for (BdrvChild* c : parents) {
    if (c->role != nullptr && c->role->resize) {
      kProbeTruncateParentResized.hit();
      c->role->resize(*c);
    }
  }
}

int bdrv_truncate(BdrvChild& child, std::int64_t offset) {
  BlockDriverState& bs = *child.bs;
  // The reference asserts the BLK_PERM_RESIZE permission here; the port has no
  // permission system (docs/port-audit.md).
  BlockDriver* drv = bs.drv();
  if (drv == nullptr) return -ENOMEDIUM;
  int ret;
  if (!drv->implements(kTruncate)) {
    if (bs.file == nullptr || !drv->is_filter()) {
      kProbeTruncateUnsupported.hit();
      return -ENOTSUP;
    }
    kProbeTruncateFilter.hit();
    ret = bdrv_truncate(*bs.file, offset);
    // The reference returns here: the filter keeps its old length, bitmaps
    // and parents' view (known defect truncate-filter-stale). QEMU 4.2 treats
    // the pass-through as the filter's own truncate and goes on below.
    if (!fixed(Fix::kTruncateFilterStale) || ret < 0) return ret;
  } else {
    if (bs.read_only) {
      kProbeTruncateReadOnly.hit();
      return -EACCES;
    }
    SIM_CHECK("truncate.active", (bs.open_flags & BDRV_O_INACTIVE) == 0, "truncate of an inactive node " + bs.node_name());
    ret = drv->truncate(bs, offset);
    if (ret < 0) {
      kProbeTruncateFailed.hit();
      return ret;
    }
  }
  ret = mutated(Mutant::kTruncateNoRefresh) ? 0 : refresh_total_sectors(bs, offset >> BDRV_SECTOR_BITS);
  if (ret >= 0) offset = bs.total_sectors * BDRV_SECTOR_SIZE;
  for (auto& bitmap : bs.dirty_bitmaps) bitmap->truncate(offset);
  bdrv_parent_cb_resize(bs);
  ++bs.write_gen;
  return ret;
}

}  // namespace engine
