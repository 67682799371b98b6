#include "engine/tracked_request.h"

#include <algorithm>

#include "engine/block_driver_state.h"
#include "engine/request_flags.h"
#include "engine/mutations.h"
#include "sim/invariant.h"
#include "sim/probe.h"
#include "sim/str.h"
#include "sim/world.h"

namespace engine {

namespace {
// Code probes (sim/probe.h).
const sim::Probe kProbeSerialisingWaited("serialise.waited", "a request waited for an overlapping serialising one");
const sim::Probe kProbeSerialisingSkippedWaiter("serialise.skipped_waiter", "a request went past an overlapping one that itself waits (waiting_for)");
const sim::Probe kProbeSerialisingWidened("serialise.widened", "a serialising request's range widened past its own bytes to the alignment");
const sim::Probe kProbeSerialisingRetried("serialise.retried", "after one wait a request found another overlapping serialising one");
}  // namespace


std::string_view tracked_type_name(TrackedType type) {
  switch (type) {
    case TrackedType::kRead: return "read";
    case TrackedType::kWrite: return "write";
    case TrackedType::kFlush: return "flush";
    case TrackedType::kIoctl: return "ioctl";
    case TrackedType::kDiscard: return "discard";
  }
  return "?";
}

std::string BdrvTrackedRequest::describe() const {
  return sim::cat(tracked_type_name(type), " ", offset, "+", bytes, serialising ? " serialising" : "", " @",
                  bs->node_name(), " (req#", id, ")");
}

void TrackedRequestList::insert_head(BdrvTrackedRequest& req) {
  SIM_CHECK("tracked.list_insert_once", req.list_prev == nullptr && req.list_next == nullptr, "tracked request already on a list");
  req.list_next = head_;
  if (head_ != nullptr) head_->list_prev = &req;
  head_ = &req;
  ++size_;
}

void TrackedRequestList::remove(BdrvTrackedRequest& req) {
  SIM_CHECK("tracked.list_nonempty", size_ > 0, "removing from an empty tracked request list");
  if (req.list_prev != nullptr) {
    req.list_prev->list_next = req.list_next;
  } else {
    SIM_CHECK("tracked.list_membership", head_ == &req, "tracked request not on this list");
    head_ = req.list_next;
  }
  if (req.list_next != nullptr) req.list_next->list_prev = req.list_prev;
  req.list_prev = req.list_next = nullptr;
  --size_;
}

sim::Task<void> tracked_request_begin(BdrvTrackedRequest& req, BlockDriverState& bs, std::int64_t offset,
                                      std::uint64_t bytes, TrackedType type, sim::TraceLabel& trace_name) {
  sim::World& world = sim::World::current();
  req.bs = &bs;
  req.offset = offset;
  req.bytes = bytes;
  req.type = type;
  req.co = world.current_coroutine();
  req.serialising = false;
  req.overlap_offset = offset;
  req.overlap_bytes = bytes;
  req.waiting_for = nullptr;
  req.past_serialising_wait = false;
  req.id = world.next_object_id();
  SIM_CHECK("tracked.in_coroutine", req.co != nullptr, "tracked request outside a coroutine");

  co_await bs.reqs_lock.lock();
  bs.tracked_requests.insert_head(req);
  bs.reqs_lock.unlock();
  world.emit_ids(sim::EventKind::kRequestBegin, req.co->id(), req.id, static_cast<std::uint64_t>(offset), bytes, 0,
                 trace_name.id(world.trace()), bs.trace_label());
}

sim::Task<void> tracked_request_end(BdrvTrackedRequest& req, int ret) {
  BlockDriverState& bs = *req.bs;
  sim::World& world = sim::World::current();
  if (req.serialising) {
    SIM_CHECK("tracked.serialising_underflow", bs.serialising_in_flight > 0, "serialising_in_flight underflow on " + bs.node_name());
    if (!mutated(Mutant::kLeakSerialisingCount)) --bs.serialising_in_flight;
  }
  co_await bs.reqs_lock.lock();
  bs.tracked_requests.remove(req);
  req.wait_queue.restart_all();
  bs.reqs_lock.unlock();
  static sim::TraceLabel kTypeLabels[] = {
      sim::TraceLabel(tracked_type_name(TrackedType::kRead)), sim::TraceLabel(tracked_type_name(TrackedType::kWrite)),
      sim::TraceLabel(tracked_type_name(TrackedType::kFlush)), sim::TraceLabel(tracked_type_name(TrackedType::kIoctl)),
      sim::TraceLabel(tracked_type_name(TrackedType::kDiscard))};
  static_assert(static_cast<int>(TrackedType::kDiscard) == 4, "one label per tracked type");
  world.emit_ids(sim::EventKind::kRequestEnd, req.co->id(), req.id, 0, 0, ret,
                 kTypeLabels[static_cast<int>(req.type)].id(world.trace()), bs.trace_label());
}

void mark_request_serialising(BdrvTrackedRequest& req, std::uint64_t align) {
  SIM_CHECK("tracked.serialising_align_pow2", is_power_of_2(align), "serialising alignment must be a power of two");
  auto a = static_cast<std::int64_t>(align);
  std::int64_t overlap_offset = req.offset & ~(a - 1);
  auto overlap_bytes = static_cast<std::uint64_t>(round_up(req.offset + static_cast<std::int64_t>(req.bytes), a) -
                                                  overlap_offset);
  if (!req.serialising) {
    ++req.bs->serialising_in_flight;
    req.serialising = true;
  }
  if (overlap_offset < req.offset || static_cast<std::int64_t>(overlap_bytes) > static_cast<std::int64_t>(req.bytes)) {
    kProbeSerialisingWidened.hit();
  }
  req.overlap_offset = std::min(req.overlap_offset, overlap_offset);
  req.overlap_bytes = std::max(req.overlap_bytes, overlap_bytes);
  // Told to the trace with the alignment only: the serialisation oracle widens
  // the range itself, so it does not share this arithmetic.
  sim::World& world = sim::World::current();
  world.emit_ids(sim::EventKind::kSerialising, req.co != nullptr ? req.co->id() : 0, req.id, align, 0, 0, 0,
                 req.bs->trace_label());
}

namespace {

// `self` has passed wait_serialising_requests: if it is serialising, no
// overlapping request may issue driver I/O until it ends.
void passed_serialising_wait(BdrvTrackedRequest& self) {
  self.past_serialising_wait = self.serialising;
  if (self.serialising) {
    sim::World::current().emit_ids(sim::EventKind::kSerialisingPastWait, self.co->id(), self.id, 0, 0, 0, 0,
                                   self.bs->trace_label());
  }
}

}  // namespace

bool tracked_request_overlaps(const BdrvTrackedRequest& req, std::int64_t offset, std::uint64_t bytes) {
  if (mutated(Mutant::kOverlapStartOnly)) {
    // The planted defect: only a range that starts inside `req` counts, so one
    // that starts before it and reaches into it is missed.
    return offset >= req.overlap_offset && offset < req.overlap_offset + static_cast<std::int64_t>(req.overlap_bytes);
  }
  // aaaa bbbb
  if (offset >= req.overlap_offset + static_cast<std::int64_t>(req.overlap_bytes)) return false;
  // bbbb aaaa
  if (req.overlap_offset >= offset + static_cast<std::int64_t>(bytes)) return false;
  return true;
}

namespace {

// Whether another request of self's node for which `counts` holds overlaps it.
template <typename Counts>
bool other_overlaps(const BdrvTrackedRequest& self, Counts&& counts) {
  for (const BdrvTrackedRequest* req = self.bs->tracked_requests.head(); req != nullptr; req = req->list_next) {
    if (req != &self && counts(*req) && tracked_request_overlaps(*req, self.overlap_offset, self.overlap_bytes)) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool overlaps_serialising_past_wait(const BdrvTrackedRequest& self) {
  return other_overlaps(self, [&](const BdrvTrackedRequest& req) { return req.co != self.co && req.past_serialising_wait; });
}

bool would_wait_serialising(const BdrvTrackedRequest& self) {
  if (self.bs->serialising_in_flight == 0) return false;
  return other_overlaps(self, [&](const BdrvTrackedRequest& req) {
    return (req.serialising || self.serialising) && req.waiting_for == nullptr;
  });
}

sim::Task<bool> wait_serialising_requests(BdrvTrackedRequest& self, bool others_only) {
  BlockDriverState& bs = *self.bs;
  bool waited = false;
  if (bs.serialising_in_flight == 0 || mutated(Mutant::kSkipSerialisingWait)) {
    passed_serialising_wait(self);
    co_return false;
  }

  bool retry;
  do {
    retry = false;
    co_await bs.reqs_lock.lock();
    for (BdrvTrackedRequest* req = bs.tracked_requests.head(); req != nullptr; req = req->list_next) {
      if (req == &self || (!req->serialising && !self.serialising)) continue;
      if (!tracked_request_overlaps(*req, self.overlap_offset, self.overlap_bytes)) continue;
      if (others_only && req->co == self.co) continue;
      // A request waiting for itself means a driver issued a nested request on
      // the same node: that would deadlock.
      SIM_CHECK("tracked.reentrant", sim::World::current().current_coroutine() != req->co,
                "re-entrant request on " + bs.node_name() + " would wait for itself");
      // If `req` already waits (perhaps for us), going on avoids a deadlock: it
      // will see us when it retries.
      if (req->waiting_for != nullptr) {
        kProbeSerialisingSkippedWaiter.hit();
        continue;
      }
      if (waited) kProbeSerialisingRetried.hit();
      self.waiting_for = req;
      const sim::WaitInfo info{"serialising", req->co->id(), req->id, sim::World::current().intern(req->describe()), 0};
      co_await req->wait_queue.wait(&bs.reqs_lock, info);
      self.waiting_for = nullptr;
      kProbeSerialisingWaited.hit();
      retry = true;
      waited = true;
      break;
    }
    bs.reqs_lock.unlock();
  } while (retry);
  passed_serialising_wait(self);
  co_return waited;
}

}  // namespace engine
