// The trace: an append-only log of typed events with a rolling 64-bit fingerprint.
//
// Every event feeds the fingerprint; only a ring of the most recent events is kept
// by default so long runs stay bounded in memory. Full capture (in memory) and
// streaming (JSON Lines to a file) are available on request. Observers see every
// event as it happens (viz builds wait graphs this way without keeping the log).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_map.h>

namespace sim {

enum class EventKind : std::uint8_t {
  kCoCreate,        // co, label = coroutine name, or with a != 0 its family (name = family + (a - 1))
  kCoResume,        // co
  kCoYield,         // co
  kCoFinish,        // co, a = 1 if it ended by an exception
  kBhRun,           // label = bottom-half name
  kTimerFire,       // label = timer name
  kExternalRun,     // label = external source name
  kRequestBegin,    // co, a = request id, b = offset, c = bytes, label = trace name, label2 = node
  kRequestEnd,      // co, a = request id, d = return value, label = trace name, label2 = node
  kWaitBegin,       // co = waiter, a = holder coroutine (0: none), b = object id, label = reason, label2 = object
  kWaitEnd,         // co = waiter, a = holder coroutine, b = object id, label = reason, label2 = object
  kDriverIssue,     // co, a = op id, b = offset, c = bytes, d = request flags given, label = driver op, label2 = node
  kDriverComplete,  // co, a = op id, d = return value, label = driver op, label2 = node
  kFaultFired,      // co, b = offset, c = bytes, d = errno, label = rule, label2 = node
  kChoice,          // a = candidates, b = chosen index
  kNote,            // label = free text (scenario events such as "drain begin")
  // A request becomes serialising: co, a = request id, b = the alignment its
  // range is widened to, label2 = node. (After kNote: runs without serialising
  // requests keep their fingerprints.)
  kSerialising,
  kSerialisingPastWait,  // a serialising request has passed its wait: co, a = request id, label2 = node
  // A read with BDRV_REQ_NO_SERIALISING skipped the wait for serialising
  // requests, as its caller asked: co, a = request id, label2 = node.
  kNoSerialising,
};
constexpr int kEventKindCount = static_cast<int>(EventKind::kNoSerialising) + 1;

std::string_view event_kind_name(EventKind kind);

struct TraceEvent {
  std::uint64_t index = 0;
  std::uint64_t time_ns = 0;
  EventKind kind = EventKind::kNote;
  std::uint32_t ctx = 0;
  std::uint64_t co = 0;
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  std::uint64_t c = 0;
  std::int64_t d = 0;
  std::uint32_t label = 0;   // interned string id (0 = empty)
  std::uint32_t label2 = 0;  // interned string id (0 = empty)
};

class Trace {
 public:
  static constexpr std::size_t kDefaultRingCapacity = 16384;
  using Observer = std::function<void(const Trace&, const TraceEvent&)>;

  explicit Trace(std::size_t ring_capacity = kDefaultRingCapacity);

  // Keep every event in memory instead of only the most recent ones.
  void capture_all(bool all);
  // Write every event as JSON Lines to `out` as it happens (nullptr: stop).
  void stream_to(std::ostream* out) { stream_ = out; }
  // Observers see the events whose kinds are in `kinds` (a mask of
  // kind_bit()s; every kind by default).
  void add_observer(Observer observer, std::uint32_t kinds = kAllKinds) {
    observers_.push_back(std::move(observer));
    observer_kinds_.push_back(kinds);
    any_observer_kinds_ |= kinds;
  }
  static constexpr std::uint32_t kind_bit(EventKind kind) { return 1u << static_cast<unsigned>(kind); }
  static constexpr std::uint32_t kAllKinds = (1u << kEventKindCount) - 1;

  // The fingerprint's history, for locating where two runs part: the whole
  // fingerprint after every `checkpoint_every` events (a power of two), and
  // its low 16 bits after each of the first `digest_limit` events. Kept by the
  // trace itself: a per-event observer would cost more than recording.
  void log_fingerprints(std::uint64_t checkpoint_every, std::uint64_t digest_limit);
  const std::vector<std::uint64_t>& checkpoints() const { return checkpoints_; }
  const std::vector<std::uint16_t>& digests() const { return digests_; }
  // While muted nothing is recorded (no fingerprint, no stream, no observers):
  // for oracles reading results back after a run's identity was taken.
  void mute(bool muted) { muted_ = muted; }

  std::uint32_t intern(std::string_view text);
  // Distinct for every Trace made in the process (a TraceLabel's cache key).
  std::uint64_t serial() const { return serial_; }
  // The name a co_create event gives its coroutine.
  std::string coroutine_name(const TraceEvent& create) const;
  // The text of an interned id; the view stays valid as long as the trace lives.
  std::string_view text(std::uint32_t id) const { return strings_[id]; }

  void record(const TraceEvent& event);
  // The same from scalars: the hot path, with no event struct built and copied.
  void record(std::uint64_t time_ns, EventKind kind, std::uint32_t ctx, std::uint64_t co, std::uint64_t a,
              std::uint64_t b, std::uint64_t c, std::int64_t d, std::uint32_t label, std::uint32_t label2);

  std::uint64_t fingerprint() const { return fingerprint_; }
  std::uint64_t count() const { return count_; }
  // The kept events, oldest first (all of them with capture_all, else the ring).
  std::vector<TraceEvent> kept() const;
  std::size_t ring_capacity() const { return ring_capacity_; }

  std::string to_json(const TraceEvent& event) const;
  void write_jsonl(std::ostream& out) const;

 private:
  std::uint64_t serial_;
  std::size_t ring_capacity_;
  bool capture_all_ = false;
  bool muted_ = false;
  std::ostream* stream_ = nullptr;
  std::uint64_t fingerprint_;
  std::uint64_t count_ = 0;
  std::vector<TraceEvent> kept_;  // a ring of ring_capacity_ unless capture_all_
  std::size_t ring_next_ = 0;     // the slot the next event overwrites once the ring is full
  std::vector<Observer> observers_;
  std::vector<std::uint32_t> observer_kinds_;  // by observer
  std::uint32_t any_observer_kinds_ = 0;
  std::uint64_t checkpoint_mask_ = 0;  // checkpoint_every - 1; 0 with no log
  std::uint64_t digest_limit_ = 0;
  std::vector<std::uint64_t> checkpoints_;
  std::vector<std::uint16_t> digests_;
  std::deque<std::string> strings_;  // a deque: interned views stay valid as it grows
  std::vector<std::uint64_t> string_hashes_;
  // Keys view strings_; lookup only, never iterated.
  absl::flat_hash_map<absl::string_view, std::uint32_t> string_ids_;
  // In front of string_ids_: the hot callers pass the same views again and
  // again (literals, views of interned strings), so a slot remembers the id of
  // the last view seen at an address. A hit is checked by content, so a reused
  // address can never give a wrong id: the cache changes speed, never an id.
  struct InternSlot {
    const char* data = nullptr;
    std::size_t size = 0;
    std::uint32_t id = 0;
  };
  static constexpr std::size_t kInternSlots = 1024;
  std::vector<InternSlot> intern_slots_ = std::vector<InternSlot>(kInternSlots);
};

// A fixed label at a hot call site, interned once per trace:
//   static sim::TraceLabel kName("bdrv_co_preadv");
//   world.emit_ids(..., kName.id(world.trace()), ...);
// The first use with each trace interns it, so ids are assigned at the same
// moments as without the cache; later uses cost a compare.
class TraceLabel {
 public:
  explicit constexpr TraceLabel(std::string_view text) : text_(text) {}
  std::uint32_t id(Trace& trace) {
    if (serial_ != trace.serial()) {
      id_ = trace.intern(text_);
      serial_ = trace.serial();
    }
    return id_;
  }
  std::string_view text() const { return text_; }

 private:
  std::string_view text_;
  std::uint64_t serial_ = 0;  // no trace has serial 0
  std::uint32_t id_ = 0;
};

std::string format_fingerprint(std::uint64_t fingerprint);

}  // namespace sim
