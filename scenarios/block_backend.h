// A BlockBackend-like root parent for guest jobs (QEMU's block-backend.c of
// the reference's time): the device's way into the graph. It is not part of
// the engine under test but its caller, modelled as QEMU's:
//   - blk_co_* check the request against the backend (at most INT_MAX bytes,
//     a medium present, inside the device's length: -EIO / -ENOMEDIUM), count
//     it in the root node's in_flight around the engine call, turn every write
//     into a FUA write when the backend's write cache is off
//     (cache=writethrough), and send zero writes as bdrv_co_pwritev without a
//     buffer (blk_co_pwrite_zeroes);
//   - its root child has the parent role: drained_begin / drained_end count the
//     backend's quiesce_counter, so parent drain callbacks run; on the first
//     drained_begin and the last drained_end the device is told (its
//     dev_ops drained_begin / drained_end), which a scenario scripts;
//   - optionally (queue_while_drained, as QEMU 5.0's blk_wait_while_drained)
//     a request arriving while the backend is quiesced waits until the last
//     drained_end.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/block_driver_state.h"
#include "engine/iovec.h"
#include "scenarios/qemu_io.h"
#include "sim/co_queue.h"
#include "sim/task.h"

namespace scenarios {

// One step of a device's drain callback (a scriptable parent), run in order
// inside the callback, outside any coroutine: submit a request as blk_aio_*
// does (counted in flight at once, run in a coroutine of its own), drain a
// node (bdrv_drain: nested, it polls), or begin or end a drained section.
struct DrainCallbackAction {
  enum class Kind : std::uint8_t { kRequest, kDrain, kDrainedBegin, kDrainedEnd, kSetBacking };
  Kind kind = Kind::kRequest;
  Command request;      // kRequest
  std::string node;     // kDrain, kDrainedBegin, kDrainedEnd, kSetBacking
  std::string backing;  // kSetBacking: the new backing ("": none)
  std::string text;
  int line = 0;
  std::string path;     // where it was written, for errors found after parsing
  int column = 0;
};

struct BackendOptions {
  bool write_cache = true;           // false: cache=writethrough, every write FUA
  bool queue_while_drained = false;  // requests wait while quiesced (later QEMU)
  // share-rw=on: the device lets other users write the nodes it uses
  // (scenarios/permissions.h: QEMU refuses them by default).
  bool share_rw = false;
  std::vector<DrainCallbackAction> on_drained_begin;  // the device's drained_begin
  std::vector<DrainCallbackAction> on_drained_end;    // the device's drained_end
};

class BlockBackend {
 public:
  BlockBackend(std::string name, engine::BlockDriverState& root_bs, BackendOptions options);
  BlockBackend(const BlockBackend&) = delete;
  BlockBackend& operator=(const BlockBackend&) = delete;

  engine::BdrvChild& root() { return root_; }
  // The device's drain callbacks (dev_ops): called with true on the first
  // drained_begin, with false on the last drained_end. As blk_set_dev_ops,
  // a backend quiesced already tells the new callbacks at once.
  void set_device_drain_hook(std::function<void(bool begin)> hook) {
    device_hook_ = std::move(hook);
    if (quiesce_counter_ > 0 && device_hook_) device_hook_(true);
  }
  const std::string& name() const { return name_; }

  // blk_co_preadv, blk_co_pwritev (qiov nullptr with BDRV_REQ_ZERO_WRITE: a
  // zero write), blk_co_pdiscard, blk_co_flush.
  sim::Task<int> co_preadv(std::int64_t offset, std::uint64_t bytes, engine::IoVector& qiov, unsigned flags);
  sim::Task<int> co_pwritev(std::int64_t offset, std::uint64_t bytes, engine::IoVector* qiov, unsigned flags);
  sim::Task<int> co_pdiscard(std::int64_t offset, int bytes);
  sim::Task<int> co_flush();
  // blk_co_ioctl: -ENOMEDIUM without a medium, else the node's bdrv_co_ioctl.
  sim::Task<int> co_ioctl(unsigned long request, void* buf);

  // The parent role's bookkeeping, for the drain oracle.
  int quiesce_counter() const { return quiesce_counter_; }
  std::uint64_t drained_begins() const { return drained_begins_; }
  std::uint64_t drained_ends() const { return drained_ends_; }
  // Resize callbacks the device got (blk_root_resize).
  std::uint64_t resizes() const { return resizes_; }
  // blk_truncate, from the main loop.
  int truncate(std::int64_t offset);
  // A callback that was not balanced: drained_end without a drained_begin.
  bool unbalanced() const { return unbalanced_; }
  // Requests waiting because the backend is quiesced.
  std::size_t queued() const { return queued_requests_.size(); }

 private:
  static const engine::BdrvChildRole kRole;
  static void drained_begin(engine::BdrvChild& child);
  static void drained_end(engine::BdrvChild& child);
  static void resize(engine::BdrvChild& child);

  int check_byte_request(std::int64_t offset, std::uint64_t bytes) const;
  sim::Task<void> wait_while_drained();

  std::string name_;
  BackendOptions options_;
  engine::BdrvChild root_;
  int quiesce_counter_ = 0;
  std::uint64_t drained_begins_ = 0;
  std::uint64_t drained_ends_ = 0;
  std::uint64_t resizes_ = 0;
  bool unbalanced_ = false;
  sim::CoQueue queued_requests_;
  std::function<void(bool)> device_hook_;
};

}  // namespace scenarios
