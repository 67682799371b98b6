#include "engine/block_driver_state.h"

#include "engine/io_internal.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "engine/drain.h"
#include "engine/errors.h"
#include "engine/fixes.h"
#include "engine/request_flags.h"
#include "sim/invariant.h"
#include "sim/probe.h"
#include "sim/world.h"

namespace engine {
namespace {
const sim::Probe kProbeRequestPastMaxLength("request.end_past_max_length",
                                            "a request ending past BDRV_MAX_LENGTH passed the range check (request-end-overflow's site)");
const sim::Probe kProbeIovShorterThanBlock("driver.iov_part_below_request_alignment",
                                           "a direct-I/O buffer length was memory-aligned but not a multiple of request_alignment (iov-length-alignment's site)");
const sim::Probe kProbeNotifierInsideRequest("backup.notifier_inside_request",
                                             "a before-write notifier ran inside the write's tracked request (backup-copy-serialising's site)");
}  // namespace

namespace {

std::vector<BlockDriverState*>& registry() {
  static std::vector<BlockDriverState*> nodes;
  return nodes;
}

// The page size the simulated host reports: fixed, so runs do not depend on the host.
constexpr std::size_t kPageSize = 4096;

}  // namespace

BdrvChild::BdrvChild(std::string child_name, BlockDriverState& child, BlockDriverState* parent_bs, ChildRole child_kind,
                     const BdrvChildRole* child_role)
    : name(std::move(child_name)), bs(&child), parent(parent_bs), kind(child_kind), role(child_role) {
  // QLIST_INSERT_HEAD, as block.c links a new parent: the newest comes first.
  child.parents.insert(child.parents.begin(), this);
}

BdrvChild::~BdrvChild() {
  if (bs == nullptr) return;
  auto& list = bs->parents;
  list.erase(std::remove(list.begin(), list.end(), this), list.end());
}

void BdrvDirtyBitmap::set(std::int64_t offset, std::int64_t bytes) {
  if (bytes <= 0 || !enabled) return;
  const auto first = static_cast<std::uint64_t>(offset) / granularity_;
  const auto last = static_cast<std::uint64_t>(offset + bytes - 1) / granularity_;
  for (std::uint64_t i = first; i <= last; ++i) dirty_.insert(i);
}

bool BdrvDirtyBitmap::get(std::int64_t offset) const {
  return dirty_.contains(static_cast<std::uint64_t>(offset) / granularity_);
}

void BdrvDirtyBitmap::truncate(std::int64_t bytes) {
  const auto chunks = (static_cast<std::uint64_t>(std::max<std::int64_t>(bytes, 0)) + granularity_ - 1) / granularity_;
  dirty_.erase(dirty_.lower_bound(chunks), dirty_.end());
}

BlockDriverState::BlockDriverState(std::string node_name, sim::AioContext& ctx, BlockDriver& drv,
                                   std::int64_t size_bytes)
    : reqs_lock(node_name + ".reqs_lock"),
      node_name_(std::move(node_name)),
      trace_label_(sim::World::current().trace().intern(node_name_)),
      ctx_(&ctx),
      drv_(&drv) {
  SIM_CHECK("node.size_nonnegative", size_bytes >= 0, "node " + node_name_ + " has a negative size");
  total_sectors = align_up(size_bytes, BDRV_SECTOR_SIZE) >> BDRV_SECTOR_BITS;
  registry().push_back(this);
}

BlockDriverState::~BlockDriverState() {
  owned_children_.clear();
  bdrv_forget(*this);
}

void bdrv_forget(BlockDriverState& bs) {
  auto& nodes = registry();
  nodes.erase(std::remove(nodes.begin(), nodes.end(), &bs), nodes.end());
}

BdrvChild& BlockDriverState::attach_child(std::string name, BlockDriverState& child, ChildRole kind,
                                          const BdrvChildRole* role) {
  SIM_CHECK("node.child_role", kind != ChildRole::kRoot, "a node's child is its file, its backing, its data file or another child");
  if (role == nullptr) role = kind == ChildRole::kBacking ? &child_backing : &child_file;
  owned_children_.push_back(std::make_unique<BdrvChild>(std::move(name), child, this, kind, role));
  BdrvChild* edge = owned_children_.back().get();
  // bdrv_replace_child_noperm: a parent joining a drained node is drained too.
  drained_edge_joined(*edge);
  drain_all_edge_joined(*edge);
  // QLIST_INSERT_HEAD, as bdrv_attach_child: drains visit the newest child first.
  children.insert(children.begin(), edge);
  if (kind == ChildRole::kFile) file = edge;
  if (kind == ChildRole::kBacking) backing = edge;
  return *edge;
}

void BlockDriverState::detach_child(BdrvChild& edge) {
  SIM_CHECK("node.detach_own_child", edge.parent == this && !edge.detached, "detaching an edge this node does not hold");
  // bdrv_detach_child: off the parent's list first, then
  // bdrv_replace_child_noperm(child, NULL): a parent leaving a drained node
  // is told the section ended for it.
  children.erase(std::remove(children.begin(), children.end(), &edge), children.end());
  if (file == &edge) file = nullptr;
  if (backing == &edge) backing = nullptr;
  BlockDriverState& old = *edge.bs;
  drained_edge_leaving(edge);
  drain_all_edge_leaving(edge);
  old.parents.erase(std::remove(old.parents.begin(), old.parents.end(), &edge), old.parents.end());
  edge.bs = nullptr;
  edge.detached = true;
}

const std::vector<BlockDriverState*>& bdrv_all_nodes() { return registry(); }

BlockDriverState* NodeWalk::next() {
  const std::vector<BlockDriverState*>& all = registry();
  if (!started_) {
    started_ = true;
  } else if (index_ < all.size() && all[index_] == current_) {
    ++index_;
  } else if (const auto it = std::find(all.begin(), all.end(), current_); it != all.end()) {
    index_ = static_cast<std::size_t>(it - all.begin()) + 1;  // nodes before it went
  }  // else the current node went: its successor moved into its place
  current_ = index_ < all.size() ? all[index_] : nullptr;
  return current_;
}

void bdrv_inc_in_flight(BlockDriverState& bs) { ++bs.in_flight; }

void bdrv_wakeup(BlockDriverState& bs) {
  // Whoever polls this node from another thread sleeps in the main loop: kick it.
  if (bs.wakeup) sim::World::current().main_context().bh_schedule("bdrv_wakeup", [] {});
}

void bdrv_dec_in_flight(BlockDriverState& bs) {
  SIM_CHECK("in_flight.underflow", bs.in_flight > 0, "in_flight underflow on " + bs.node_name());
  --bs.in_flight;
  bdrv_wakeup(bs);
}

void bdrv_ref(BlockDriverState& bs) { ++bs.refcnt; }

void bdrv_unref(BlockDriverState& bs) {
  SIM_CHECK("refcnt.underflow", bs.refcnt > 0, "reference count underflow on " + bs.node_name());
  --bs.refcnt;
}

std::int64_t bdrv_nb_sectors(BlockDriverState& bs) {
  if (bs.drv() == nullptr) return -ENOMEDIUM;
  if (bs.drv()->has_variable_length()) {
    std::int64_t length = bs.drv()->getlength(bs);
    if (length < 0) return length;
    bs.total_sectors = align_up(length, BDRV_SECTOR_SIZE) >> BDRV_SECTOR_BITS;
  }
  return bs.total_sectors;
}

std::int64_t bdrv_getlength(BlockDriverState& bs) {
  std::int64_t sectors = bdrv_nb_sectors(bs);
  if (sectors > INT64_MAX / BDRV_SECTOR_SIZE) return -EFBIG;
  return sectors < 0 ? sectors : sectors * BDRV_SECTOR_SIZE;
}

// block.c's: no driver, no medium; otherwise every child must have one (no
// driver here has its own bdrv_is_inserted). A quorum with one child ejected
// is not inserted, nor is a filter over it.
bool bdrv_is_inserted(const BlockDriverState& bs) {
  if (bs.drv() == nullptr) return false;
  for (const BdrvChild* child : bs.children) {
    if (child->bs != nullptr && !bdrv_is_inserted(*child->bs)) return false;
  }
  return true;
}

int bdrv_get_info(BlockDriverState& bs, BlockDriverInfo* bdi) {
  *bdi = BlockDriverInfo{};
  if (bs.drv() == nullptr) return -ENOMEDIUM;
  if (!bs.drv()->implements(kGetInfo)) {
    // A filter without its own answers with its file's (block.c of the time,
    // 5a612c009e): blkdebug reports its image's cluster size.
    if (bs.file != nullptr && bs.drv()->is_filter()) return bdrv_get_info(*bs.file->bs, bdi);
    return -ENOTSUP;
  }
  return bs.drv()->get_info(bs, bdi);
}

bool bdrv_unallocated_blocks_are_zero(BlockDriverState& bs) {
  if (bs.backing != nullptr) return false;
  BlockDriverInfo bdi;
  return bdrv_get_info(bs, &bdi) == 0 && bdi.unallocated_blocks_are_zero;
}

int bdrv_check_byte_request(const BlockDriverState& bs, std::int64_t offset, std::uint64_t bytes) {
  if (bytes > static_cast<std::uint64_t>(BDRV_REQUEST_MAX_BYTES)) return -EIO;
  if (!bdrv_is_inserted(bs)) return -ENOMEDIUM;
  if (offset < 0) return -EIO;
  // The reference stops here: `offset + bytes` may pass INT64_MAX (known
  // defect request-end-overflow).
  if (bytes > static_cast<std::uint64_t>(BDRV_MAX_LENGTH) || offset > BDRV_MAX_LENGTH - static_cast<std::int64_t>(bytes)) {
    kProbeRequestPastMaxLength.hit();
    if (fixed(Fix::kMaxLength)) return -EIO;
  }
  return 0;
}

BdrvDirtyBitmap& bdrv_create_dirty_bitmap(BlockDriverState& bs, std::uint32_t granularity) {
  SIM_CHECK("dirty_bitmap.granularity", is_power_of_2(granularity) && granularity >= BDRV_SECTOR_SIZE,
             "dirty bitmap granularity must be a power of two of at least 512");
  bs.dirty_bitmaps.push_back(std::make_unique<BdrvDirtyBitmap>(granularity));
  return *bs.dirty_bitmaps.back();
}

void bdrv_set_dirty(BlockDriverState& bs, std::int64_t offset, std::int64_t bytes) {
  for (auto& bitmap : bs.dirty_bitmaps) bitmap->set(offset, bytes);
}

bool bdrv_has_readonly_bitmaps(const BlockDriverState& bs) {
  return std::any_of(bs.dirty_bitmaps.begin(), bs.dirty_bitmaps.end(), [](const auto& b) { return b->readonly; });
}

void bdrv_add_before_write_notifier(BlockDriverState& bs, BeforeWriteNotifier notifier) {
  // notifier_with_return_list_add: QLIST_INSERT_HEAD, so the newest runs first.
  bs.before_write_notifiers.push_front(std::move(notifier));
}

sim::Task<int> bdrv_notify_before_write(BlockDriverState& bs, BdrvTrackedRequest& req) {
  // notifier_with_return_list_notify walks the list with QLIST_FOREACH_SAFE
  // from the head: one added (at the head) while a notifier yields is not
  // visited. Notifiers are only ever added at the front, so an element's
  // distance from the back is stable across a yield.
  const std::size_t count = bs.before_write_notifiers.size();
  if (count > 0 && bdrv_notify_inside_request()) kProbeNotifierInsideRequest.hit();
  for (std::size_t from_back = count; from_back > 0; --from_back) {
    auto& notifiers = bs.before_write_notifiers;
    const int ret = co_await notifiers[notifiers.size() - from_back](req);
    if (ret < 0) co_return ret;
  }
  co_return 0;
}

sim::Task<int> bdrv_notify_before_request(BlockDriverState& bs, std::int64_t offset, std::uint64_t bytes) {
  if (bdrv_notify_inside_request() || bs.before_write_notifiers.empty()) co_return 0;
  // The notifier sees the range as a request's (the filter's view of it).
  BdrvTrackedRequest pending;
  pending.bs = &bs;
  pending.offset = offset;
  pending.bytes = bytes;
  pending.overlap_offset = offset;
  pending.overlap_bytes = bytes;
  pending.type = TrackedType::kWrite;
  pending.co = sim::World::current().current_coroutine();
  co_return co_await bdrv_notify_before_write(bs, pending);
}

bool bdrv_notify_inside_request() { return !fixed(Fix::kBackupCopySerialising); }

void bdrv_enable_copy_on_read(BlockDriverState& bs) { ++bs.copy_on_read; }

void bdrv_disable_copy_on_read(BlockDriverState& bs) {
  SIM_CHECK("copy_on_read.underflow", bs.copy_on_read >= 1,
            "copy-on-read disabled more often than enabled on " + bs.node_name());
  --bs.copy_on_read;
}

namespace {
void merge_limits(BlockLimits& dst, const BlockLimits& src) {
  dst.opt_transfer = std::max(dst.opt_transfer, src.opt_transfer);
  dst.max_transfer = min_non_zero(dst.max_transfer, src.max_transfer);
  dst.opt_mem_alignment = std::max(dst.opt_mem_alignment, src.opt_mem_alignment);
  dst.min_mem_alignment = std::max(dst.min_mem_alignment, src.min_mem_alignment);
  dst.max_iov = min_non_zero(dst.max_iov, src.max_iov);
}
}  // namespace

void bdrv_refresh_limits(BlockDriverState& bs) {
  bs.bl = BlockLimits{};
  bs.bl.request_alignment = 0;  // as the reference's memset: no driver, no limits
  BlockDriver* drv = bs.drv();
  if (drv == nullptr) return;
  // Byte-based drivers take any alignment; sector-based ones need sectors.
  bs.bl.request_alignment = drv->implements(kCoPreadv) ? 1 : 512;
  // Children's limits are the defaults.
  if (bs.file != nullptr) {
    bdrv_refresh_limits(*bs.file->bs);
    merge_limits(bs.bl, bs.file->bs->bl);
  } else {
    bs.bl.min_mem_alignment = 512;
    bs.bl.opt_mem_alignment = kPageSize;
    bs.bl.max_iov = kIovMax;  // readv()/writev() and friends
  }
  if (bs.backing != nullptr) {
    bdrv_refresh_limits(*bs.backing->bs);
    merge_limits(bs.bl, bs.backing->bs->bl);
  }
  // Then the driver has the last word.
  if (drv->implements(kRefreshLimits)) drv->refresh_limits(bs);
}

void bdrv_io_plug(BlockDriverState& bs) {
  for (BdrvChild* child : bs.children) bdrv_io_plug(*child->bs);
  if (bs.io_plugged++ == 0 && bs.drv() != nullptr && bs.drv()->implements(kIoPlug)) bs.drv()->io_plug(bs);
}

void bdrv_io_unplug(BlockDriverState& bs) {
  SIM_CHECK("io_unplug.plugged", bs.io_plugged > 0, "io_unplug without io_plug on " + bs.node_name());
  if (bs.io_plugged-- == 1 && bs.drv() != nullptr && bs.drv()->implements(kIoPlug)) bs.drv()->io_unplug(bs);
  for (BdrvChild* child : bs.children) bdrv_io_unplug(*child->bs);
}

std::size_t bdrv_opt_mem_align(const BlockDriverState& bs) {
  if (bs.drv() == nullptr) return std::max<std::size_t>(4096, kPageSize);
  return bs.bl.opt_mem_alignment;
}

std::size_t bdrv_min_mem_align(const BlockDriverState& bs) {
  if (bs.drv() == nullptr) return kPageSize;
  return bs.bl.min_mem_alignment;
}

BlockBuffer::~BlockBuffer() { std::free(data_); }

BlockBuffer qemu_try_blockalign(const BlockDriverState& bs, std::size_t size) {
  const std::size_t align = bdrv_opt_mem_align(bs);
  SIM_CHECK("blockalign.positive_alignment", align > 0, "memory alignment of zero");
  // Never an empty buffer on success, even for size 0.
  const std::size_t want = size == 0 ? align : size;
  sim::World& world = sim::World::current();
  const std::uint64_t limit = world.config().alloc_limit_bytes;
  if (limit != 0 && want > limit) {
    // Traced as a fault of the node, so that the errors oracle knows where an
    // -ENOMEM came from.
    sim::Coroutine* self = world.current_coroutine();
    static sim::TraceLabel kOutOfMemory("out of memory");
    world.emit_ids(sim::EventKind::kFaultFired, self != nullptr ? self->id() : 0, 0, 0, want, -ENOMEM, kOutOfMemory.id(world.trace()),
                   bs.trace_label());
    return BlockBuffer();
  }
  void* p = std::aligned_alloc(align, (want + align - 1) / align * align);
  // Fresh memory holds anything: a fixed poison keeps runs deterministic, and
  // shows up as a pattern no write put there if it ever reaches a disk.
  if (p != nullptr) std::memset(p, kFreshMemoryPoison, want);
  return BlockBuffer(static_cast<std::uint8_t*>(p), p == nullptr ? 0 : want);
}

BlockBuffer qemu_try_blockalign0(const BlockDriverState& bs, std::size_t size) {
  BlockBuffer b = qemu_try_blockalign(bs, size);
  if (b) std::memset(b.data(), 0, size);
  return b;
}

BlockBuffer qemu_blockalign(const BlockDriverState& bs, std::size_t size) {
  BlockBuffer b = qemu_try_blockalign(bs, size);
  SIM_CHECK("blockalign.allocated", static_cast<bool>(b), "out of memory in qemu_blockalign");
  return b;
}

BlockBuffer qemu_blockalign0(const BlockDriverState& bs, std::size_t size) {
  BlockBuffer b = qemu_blockalign(bs, size);
  std::memset(b.data(), 0, size);
  return b;
}

bool bdrv_qiov_is_aligned(const BlockDriverState& bs, const IoVector& qiov) {
  // Looks at buffer addresses, as the reference does: a direct-I/O driver asks
  // (mem's `direct`). Runs stay deterministic because every buffer is aligned
  // (the engine's come from qemu_blockalign, a job's from scenarios/io_buffer.h),
  // so the answer depends on lengths and offsets within them only.
  const std::size_t alignment = bdrv_min_mem_align(bs);
  // Lengths against the memory alignment too: known defect iov-length-alignment.
  const std::size_t length_unit = fixed(Fix::kIovLengthAlignment) ? bs.bl.request_alignment : alignment;
  for (const auto& part : qiov.parts()) {
    if (reinterpret_cast<std::uintptr_t>(part.data()) % alignment != 0) return false;
    if (part.size() % alignment == 0 && part.size() % bs.bl.request_alignment != 0) kProbeIovShorterThanBlock.hit();
    if (part.size() % length_unit != 0) return false;
  }
  return true;
}

}  // namespace engine
