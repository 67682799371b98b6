// Tracked requests: every read, write and discard in flight on a node is on the
// node's list, so that serialising requests (read-modify-write, copy-on-read) can
// wait for the overlapping requests before them.
#pragma once

#include <cstdint>
#include <string>

#include "sim/co_queue.h"
#include "sim/coroutine.h"
#include "sim/task.h"
#include "sim/trace.h"

namespace engine {

class BlockDriverState;

enum class TrackedType : std::uint8_t { kRead, kWrite, kFlush, kIoctl, kDiscard };
std::string_view tracked_type_name(TrackedType type);

struct BdrvTrackedRequest {
  BlockDriverState* bs = nullptr;
  std::int64_t offset = 0;
  std::uint64_t bytes = 0;
  TrackedType type = TrackedType::kRead;
  bool serialising = false;
  // Set once a serialising request has passed wait_serialising_requests: from
  // then on no overlapping request may issue driver I/O (the serialisation oracle).
  bool past_serialising_wait = false;
  // The range that counts for overlap: widened to the serialising alignment.
  std::int64_t overlap_offset = 0;
  std::uint64_t overlap_bytes = 0;
  sim::Coroutine* co = nullptr;
  sim::CoQueue wait_queue;  // requests waiting for this one to end
  BdrvTrackedRequest* waiting_for = nullptr;
  std::uint64_t id = 0;  // request id in the trace

  // Links of the node's list (newest first, as QLIST_INSERT_HEAD).
  BdrvTrackedRequest* list_prev = nullptr;
  BdrvTrackedRequest* list_next = nullptr;

  std::string describe() const;
};

// Intrusive list of a node's tracked requests, newest first. Iteration order is the
// list's order, never addresses.
class TrackedRequestList {
 public:
  void insert_head(BdrvTrackedRequest& req);
  void remove(BdrvTrackedRequest& req);
  bool empty() const { return head_ == nullptr; }
  std::size_t size() const { return size_; }
  BdrvTrackedRequest* head() const { return head_; }

 private:
  BdrvTrackedRequest* head_ = nullptr;
  std::size_t size_ = 0;
};

// Add `req` to bs's list (takes bs->reqs_lock) and trace the request's start under
// QEMU's trace-event name.
sim::Task<void> tracked_request_begin(BdrvTrackedRequest& req, BlockDriverState& bs, std::int64_t offset,
                                      std::uint64_t bytes, TrackedType type, sim::TraceLabel& trace_name);
// Remove `req` and wake everything waiting for it.
sim::Task<void> tracked_request_end(BdrvTrackedRequest& req, int ret);
// Make `req` serialising over its range widened to `align`.
void mark_request_serialising(BdrvTrackedRequest& req, std::uint64_t align);
bool tracked_request_overlaps(const BdrvTrackedRequest& req, std::int64_t offset, std::uint64_t bytes);
// Wait until no overlapping request conflicts with `self` (one of the two must be
// serialising). Returns whether it waited. With `others_only` the requests of
// the calling coroutine are not waited for (serialising-wait-reopened's fix: a
// before-write notifier's read inside its own write).
sim::Task<bool> wait_serialising_requests(BdrvTrackedRequest& self, bool others_only = false);
// Whether a serialising request of another coroutine that is past its wait
// overlaps `self` (a BDRV_REQ_NO_SERIALISING read then reopens its wait).
bool overlaps_serialising_past_wait(const BdrvTrackedRequest& self);
// Whether wait_serialising_requests would wait for something now: another
// request, one of the two serialising, overlapping `self`, not itself waiting.
bool would_wait_serialising(const BdrvTrackedRequest& self);

}  // namespace engine
