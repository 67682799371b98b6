// A node of the block graph (QEMU's BlockDriverState) and the edges between nodes
// (BdrvChild). The request layer's per-node state lives here: limits, counters,
// the tracked request list, the flush generation machinery, dirty bitmaps and
// before-write notifiers.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <absl/container/btree_set.h>

#include "engine/block_driver.h"
#include "engine/tracked_request.h"
#include "sim/aio_context.h"
#include "sim/co_mutex.h"
#include "sim/co_queue.h"

namespace engine {

// BlockLimits: 0 means "no limit" / "no preference".
struct BlockLimits {
  std::uint32_t request_alignment = 1;        // power of two, bytes
  std::int32_t max_pdiscard = 0;              // bytes
  std::uint32_t pdiscard_alignment = 0;       // bytes, multiple of request_alignment
  std::int32_t max_pwrite_zeroes = 0;         // bytes
  std::uint32_t pwrite_zeroes_alignment = 0;  // bytes, multiple of request_alignment
  std::uint32_t opt_transfer = 0;
  std::uint32_t max_transfer = 0;  // bytes, multiple of request_alignment
  std::size_t min_mem_alignment = 0;
  std::size_t opt_mem_alignment = 0;
  int max_iov = 0;
};

// IOV_MAX: a protocol node's default max_iov (readv()/writev() take no more).
inline constexpr int kIovMax = 1024;

// Open flags (QEMU's BDRV_O_*).
enum BdrvOpenFlags : int {
  BDRV_O_RDWR = 0x0002,
  BDRV_O_NO_FLUSH = 0x0200,
  BDRV_O_INACTIVE = 0x0800,
  BDRV_O_UNMAP = 0x4000,
  BDRV_O_NO_IO = 0x10000,
};

enum class DetectZeroes : std::uint8_t { kOff, kOn, kUnmap };

// kData: a second child a format writes its data to (qcow2's data_file).
// kChild: any other child a node's driver reads and writes (quorum's
// children, which block.c of the time opened with child_format's role).
enum class ChildRole : std::uint8_t { kRoot, kFile, kBacking, kData, kChild };

struct BdrvChild;

// What a parent is told about its child (QEMU's BdrvChildRole callbacks).
struct BdrvChildRole {
  std::function<void(BdrvChild&)> drained_begin;
  std::function<void(BdrvChild&)> drained_end;
  std::function<void(BdrvChild&)> resize;  // the child's length changed (bdrv_truncate)
};

// block.c's roles for a node's file and backing children (engine/child_roles.cc).
extern const BdrvChildRole child_file;
extern const BdrvChildRole child_backing;

// An edge from a parent (a node, or a root user such as a BlockBackend when
// parent is nullptr) to a child node. It links itself into the child's parent
// list and unlinks on destruction.
struct BdrvChild {
  BdrvChild(std::string name, BlockDriverState& child, BlockDriverState* parent, ChildRole kind,
            const BdrvChildRole* role = nullptr);
  ~BdrvChild();
  BdrvChild(const BdrvChild&) = delete;
  BdrvChild& operator=(const BdrvChild&) = delete;

  std::string name;
  BlockDriverState* bs;  // nullptr once detached
  BlockDriverState* parent;
  ChildRole kind;
  const BdrvChildRole* role;
  void* opaque = nullptr;  // the parent's own state, for its role's callbacks
  // With the drain-all-graph-change fix: the open drain_all sections that have
  // told this parent its child is drained (at rest, the child's
  // drain_all_sections); the reference keeps no such count.
  int drain_all_told = 0;
  // Detached from its parent (bdrv_unref_child): the reference frees the edge;
  // the port keeps it as a tombstone so a later use of it is caught.
  bool detached = false;
};

// A dirty bitmap: which `granularity`-sized chunks were written (block/dirty-bitmap.c
// of the time: bdrv_set_dirty skips a disabled bitmap). Sparse, so a bitmap on a
// huge node costs what is dirty.
class BdrvDirtyBitmap {
 public:
  explicit BdrvDirtyBitmap(std::uint32_t granularity) : granularity_(granularity) {}
  void set(std::int64_t offset, std::int64_t bytes);
  bool get(std::int64_t offset) const;
  // hbitmap_truncate: the bitmap now covers `bytes` bytes; chunks past them are gone.
  void truncate(std::int64_t bytes);
  std::uint64_t count() const { return dirty_.size(); }  // dirty chunks
  std::uint32_t granularity() const { return granularity_; }
  bool readonly = false;  // a read-only bitmap forbids writes (-EPERM)
  bool enabled = true;    // a disabled bitmap records nothing

 private:
  std::uint32_t granularity_;
  absl::btree_set<std::uint64_t> dirty_;  // chunk indices, in order
};

// A before-write notifier sees every write and discard before it reaches the
// driver and may fail it with a negative errno. It runs in the request's
// coroutine and may yield (backup's copies the old data out first), as
// QEMU's coroutine_fn notifiers do.
using BeforeWriteNotifier = std::function<sim::Task<int>(BdrvTrackedRequest&)>;

class BlockDriverState {
 public:
  BlockDriverState(std::string node_name, sim::AioContext& ctx, BlockDriver& drv, std::int64_t size_bytes);
  BlockDriverState(const BlockDriverState&) = delete;
  BlockDriverState& operator=(const BlockDriverState&) = delete;
  ~BlockDriverState();

  const std::string& node_name() const { return node_name_; }
  std::uint32_t trace_label() const { return trace_label_; }
  sim::AioContext& aio_context() const { return *ctx_; }
  BlockDriver* drv() const { return drv_; }
  // Removes the medium: every request then fails with -ENOMEDIUM.
  void eject() { drv_ = nullptr; }
  // Puts a medium (its driver) back.
  void insert(BlockDriver& drv) { drv_ = &drv; }

  // Graph edges this node owns: its file and backing children. Without a
  // role the edge gets block.c's (child_file or child_backing), which forwards
  // drains to this node.
  BdrvChild& attach_child(std::string name, BlockDriverState& child, ChildRole kind,
                          const BdrvChildRole* role = nullptr);
  // bdrv_unref_child: unlinks the edge from both nodes (the child's parent
  // told if the child was drained) and keeps it as a tombstone.
  void detach_child(BdrvChild& edge);

  BlockLimits bl;
  int open_flags = BDRV_O_RDWR;
  bool read_only = false;
  DetectZeroes detect_zeroes = DetectZeroes::kOff;
  unsigned supported_write_flags = 0;
  unsigned supported_zero_flags = 0;
  std::int64_t total_sectors = 0;
  std::uint64_t wr_highest_offset = 0;

  unsigned in_flight = 0;
  unsigned serialising_in_flight = 0;
  int quiesce_counter = 0;
  // Open drain_all sections whose begin counted this node (it told the
  // node's parents and disabled its context's external events): what the
  // drain-all-deleted-node fix ends when the node is deleted inside them.
  int drain_all_sections = 0;
  unsigned io_plugged = 0;
  int copy_on_read = 0;  // a reference count: enable/disable pairs nest
  int refcnt = 1;
  bool wakeup = false;  // a thread polls this node from elsewhere: kick it

  // Flush generations: write_gen counts completed writes; flushed_gen is the
  // write_gen that the last successful flush made stable.
  unsigned write_gen = 0;
  unsigned flushed_gen = 0;
  bool active_flush_req = false;
  sim::CoroutineId active_flush_co = 0;
  sim::CoQueue flush_queue;

  sim::CoMutex reqs_lock;
  TrackedRequestList tracked_requests;

  std::vector<std::unique_ptr<BdrvDirtyBitmap>> dirty_bitmaps;
  // A deque: a suspended notifier's closure must not move when another is added.
  std::deque<BeforeWriteNotifier> before_write_notifiers;

  BdrvChild* file = nullptr;
  BdrvChild* backing = nullptr;
  std::vector<BdrvChild*> children;  // in attach order
  std::vector<BdrvChild*> parents;   // edges pointing at this node, in attach order

 private:
  std::string node_name_;
  std::uint32_t trace_label_;
  sim::AioContext* ctx_;
  BlockDriver* drv_;
  std::vector<std::unique_ptr<BdrvChild>> owned_children_;  // attached and detached edges
};

// Every live node, in creation order (QEMU's bdrv_first / bdrv_next).
const std::vector<BlockDriverState*>& bdrv_all_nodes();

// A walk of bdrv_all_nodes() as QEMU's list walk (bdrv_next over a QTAILQ)
// goes while the code it runs may poll and so delete nodes: a node deleted
// before the walk reaches it is never visited, and the current node's
// deletion leads on to the node that followed it. (A range-for over the
// vector itself would read past its new end.)
class NodeWalk {
 public:
  BlockDriverState* next();

 private:
  BlockDriverState* current_ = nullptr;
  std::size_t index_ = 0;  // where current_ was when visited
  bool started_ = false;
};

inline BlockDriverState* backing_bs(const BlockDriverState& bs) { return bs.backing ? bs.backing->bs : nullptr; }

// bdrv_inc_in_flight / bdrv_dec_in_flight / bdrv_wakeup.
void bdrv_inc_in_flight(BlockDriverState& bs);
void bdrv_dec_in_flight(BlockDriverState& bs);
void bdrv_wakeup(BlockDriverState& bs);
void bdrv_ref(BlockDriverState& bs);
void bdrv_unref(BlockDriverState& bs);

// bdrv_nb_sectors and bdrv_getlength: the node's own view of its length.
std::int64_t bdrv_nb_sectors(BlockDriverState& bs);
std::int64_t bdrv_getlength(BlockDriverState& bs);
bool bdrv_is_inserted(const BlockDriverState& bs);
// 0 or -ENOTSUP / -ENOMEDIUM (QEMU's bdrv_get_info).
int bdrv_get_info(BlockDriverState& bs, BlockDriverInfo* bdi);
bool bdrv_unallocated_blocks_are_zero(BlockDriverState& bs);
// Validates a byte range: 0 or -EIO / -ENOMEDIUM.
int bdrv_check_byte_request(const BlockDriverState& bs, std::int64_t offset, std::uint64_t bytes);

// Dirty bitmaps.
BdrvDirtyBitmap& bdrv_create_dirty_bitmap(BlockDriverState& bs, std::uint32_t granularity);
void bdrv_set_dirty(BlockDriverState& bs, std::int64_t offset, std::int64_t bytes);
bool bdrv_has_readonly_bitmaps(const BlockDriverState& bs);

void bdrv_add_before_write_notifier(BlockDriverState& bs, BeforeWriteNotifier notifier);
// Runs the notifiers in order; the first failure wins.
sim::Task<int> bdrv_notify_before_write(BlockDriverState& bs, BdrvTrackedRequest& req);
// With the backup-copy-serialising fix the before-write notifiers run as
// QEMU 4.2's backup-top filter runs its copy: before the write (or discard)
// exists on the node, so that nothing on the node waits for it meanwhile.
// Without it, nothing (the reference notifies from inside the request).
sim::Task<int> bdrv_notify_before_request(BlockDriverState& bs, std::int64_t offset, std::uint64_t bytes);
// Whether the request's own notification is still due (the reference's).
bool bdrv_notify_inside_request();

// Copy-on-read is a reference count.
void bdrv_enable_copy_on_read(BlockDriverState& bs);
void bdrv_disable_copy_on_read(BlockDriverState& bs);

// bdrv_set_backing_hd (block.c of the time): bs's backing becomes `backing`
// (nullptr: none). Takes a reference on the new backing, detaches the old
// edge and drops its reference, attaches the new edge (a drained new backing
// drains bs through its role), and refreshes bs's limits. It does not drain:
// callers that want requests out of the way drain first
// (engine/graph_change.cc).
void bdrv_set_backing_hd(BlockDriverState& bs, BlockDriverState* backing);

// bdrv_replace_child_noperm (block.c of the time): `child` now points at
// `to` (same AioContext); a drained old node ends the parent's section, a
// drained new node begins one.
void bdrv_replace_child(BdrvChild& child, BlockDriverState& to);
// bdrv_replace_node (block.c of the time), as mirror's and commit's
// completions use it: every parent of `from` (but `keep`: the harness's own
// way into `from`, which QEMU's monitor holds without an edge) is moved to
// `to`, the last linked first. Both must be idle (the reference asserts it):
// callers drain first. Parents' limits are not refreshed, as then.
void bdrv_replace_node(BlockDriverState& from, BlockDriverState& to, const BdrvChild* keep);

// bdrv_close (block.c of the time): drained_begin, flush, drain, then the
// node loses its driver and every child (backing, file, the others), its dirty
// bitmaps go, and drained_end. bdrv_delete closes it and takes it off the list
// of nodes, as bdrv_unref does when the monitor drops the last reference
// (QMP blockdev-del). The caller makes sure no parent holds it.
void bdrv_close(BlockDriverState& bs);
void bdrv_delete(BlockDriverState& bs);
// Takes `bs` off the list bdrv_all_nodes() returns.
void bdrv_forget(BlockDriverState& bs);

// bdrv_refresh_limits: defaults by driver style, merged from file and backing,
// then the driver's own refresh.
void bdrv_refresh_limits(BlockDriverState& bs);

// io_plug / io_unplug: nest over the subtree; the driver sees only the outermost.
void bdrv_io_plug(BlockDriverState& bs);
void bdrv_io_unplug(BlockDriverState& bs);

// Memory helpers (qemu_blockalign and friends, the qiov alignment check).
// What fresh buffers hold (malloc's contents are indeterminate).
inline constexpr std::uint8_t kFreshMemoryPoison = 0xdb;
// A buffer aligned to the node's preferred memory alignment, freed on destruction.
class BlockBuffer {
 public:
  BlockBuffer() = default;
  BlockBuffer(std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  BlockBuffer(BlockBuffer&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  BlockBuffer& operator=(BlockBuffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }
  BlockBuffer(const BlockBuffer&) = delete;
  BlockBuffer& operator=(const BlockBuffer&) = delete;
  ~BlockBuffer();
  std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  explicit operator bool() const { return data_ != nullptr; }

 private:
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};
// Never fails (a failed allocation is an invariant, as QEMU aborts).
BlockBuffer qemu_blockalign(const BlockDriverState& bs, std::size_t size);
BlockBuffer qemu_blockalign0(const BlockDriverState& bs, std::size_t size);
// May fail (an empty buffer); a size of 0 still gives a non-empty buffer.
BlockBuffer qemu_try_blockalign(const BlockDriverState& bs, std::size_t size);
BlockBuffer qemu_try_blockalign0(const BlockDriverState& bs, std::size_t size);
std::size_t bdrv_opt_mem_align(const BlockDriverState& bs);
std::size_t bdrv_min_mem_align(const BlockDriverState& bs);
bool bdrv_qiov_is_aligned(const BlockDriverState& bs, const IoVector& qiov);

}  // namespace engine
