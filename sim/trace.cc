#include "sim/trace.h"

#include <array>
#include <cstdio>
#include <ostream>

#include <nlohmann/json.hpp>

#include "sim/invariant.h"
#include "sim/rng.h"

namespace sim {
namespace {

constexpr std::array<std::string_view, kEventKindCount> kKindNames = {
    "co_create", "co_resume",  "co_yield",     "co_finish",       "bh",    "timer",  "external", "request_begin",
    "request_end", "wait_begin", "wait_end", "driver_issue", "driver_complete", "fault", "choice", "note",
    "serialising", "serialising_past_wait", "no_serialising",
};

// Folds two words into one with a 64x64->128 multiply (as wyhash does): cheap,
// and every input bit reaches every output bit.
inline std::uint64_t fold(std::uint64_t a, std::uint64_t b) {
  __uint128_t product = static_cast<__uint128_t>(a ^ 0xa0761d6478bd642fULL) * (b ^ 0xe7037ed1a0b428dbULL);
  return static_cast<std::uint64_t>(product) ^ static_cast<std::uint64_t>(product >> 64);
}

}  // namespace

std::string_view event_kind_name(EventKind kind) { return kKindNames[static_cast<std::size_t>(kind)]; }

namespace {
std::uint64_t g_last_trace_serial = 0;  // runs are single-threaded: a plain counter
}  // namespace

Trace::Trace(std::size_t ring_capacity)
    : serial_(++g_last_trace_serial), ring_capacity_(ring_capacity), fingerprint_(0x626c6b73696d0001ULL) {
  SIM_ASSERT(ring_capacity_ > 0, "trace ring needs room for at least one event");
  intern("");
}

std::uint32_t Trace::intern(std::string_view text) {
  const auto address = reinterpret_cast<std::uintptr_t>(text.data());
  InternSlot& slot = intern_slots_[((address >> 3) ^ (address >> 13) ^ text.size()) % kInternSlots];
  if (slot.data == text.data() && slot.size == text.size() && strings_[slot.id] == text) return slot.id;
  std::uint32_t id;
  auto it = string_ids_.find(absl::string_view(text.data(), text.size()));
  if (it != string_ids_.end()) {
    id = it->second;
  } else {
    id = static_cast<std::uint32_t>(strings_.size());
    const std::string& stored = strings_.emplace_back(text);
    string_hashes_.push_back(hash_string(text));
    string_ids_.emplace(absl::string_view(stored.data(), stored.size()), id);
  }
  slot = InternSlot{text.data(), text.size(), id};
  return id;
}

void Trace::record(const TraceEvent& e) { record(e.time_ns, e.kind, e.ctx, e.co, e.a, e.b, e.c, e.d, e.label, e.label2); }

void Trace::record(std::uint64_t time_ns, EventKind kind, std::uint32_t ctx, std::uint64_t co, std::uint64_t a,
                   std::uint64_t b, std::uint64_t c, std::int64_t d, std::uint32_t label, std::uint32_t label2) {
  if (muted_) return;
  // Every field that carries meaning feeds the fingerprint; labels by content, so
  // the fingerprint does not depend on the order strings were first interned.
  // Four independent folds (they pipeline), then one that chains the previous
  // fingerprint in, so the order of events matters.
  const std::uint64_t head = fold(time_ns, static_cast<std::uint64_t>(kind) | (std::uint64_t{ctx} << 8));
  const std::uint64_t who = fold(co, a);
  const std::uint64_t where = fold(b, c);
  const std::uint64_t what = fold(static_cast<std::uint64_t>(d), string_hashes_[label]);
  fingerprint_ = fold(fingerprint_ ^ head ^ where, who ^ what ^ string_hashes_[label2]);

  TraceEvent* slot;
  if (capture_all_ || kept_.size() < ring_capacity_) {
    slot = &kept_.emplace_back();
  } else {
    slot = &kept_[ring_next_];  // overwrite the oldest
    if (++ring_next_ == ring_capacity_) ring_next_ = 0;  // no division on the hot path
  }
  slot->index = count_++;
  slot->time_ns = time_ns;
  slot->kind = kind;
  slot->ctx = ctx;
  slot->co = co;
  slot->a = a;
  slot->b = b;
  slot->c = c;
  slot->d = d;
  slot->label = label;
  slot->label2 = label2;
  if (count_ <= digest_limit_) digests_.push_back(static_cast<std::uint16_t>(fingerprint_));
  if (checkpoint_mask_ != 0 && (count_ & checkpoint_mask_) == 0) checkpoints_.push_back(fingerprint_);
  if (stream_ != nullptr) *stream_ << to_json(*slot) << '\n';
  if ((any_observer_kinds_ & kind_bit(kind)) != 0) {
    for (std::size_t i = 0; i < observers_.size(); ++i) {
      if ((observer_kinds_[i] & kind_bit(kind)) != 0) observers_[i](*this, *slot);
    }
  }
}

void Trace::log_fingerprints(std::uint64_t checkpoint_every, std::uint64_t digest_limit) {
  SIM_ASSERT(checkpoint_every > 1 && (checkpoint_every & (checkpoint_every - 1)) == 0,
             "fingerprint checkpoints every power of two events");
  SIM_ASSERT(count_ == 0, "the fingerprint log starts with the trace");
  checkpoint_mask_ = checkpoint_every - 1;
  digest_limit_ = digest_limit;
}

std::string Trace::coroutine_name(const TraceEvent& create) const {
  std::string name(text(create.label));
  if (create.a != 0) name += std::to_string(create.a - 1);
  return name;
}

std::string Trace::to_json(const TraceEvent& e) const {
  nlohmann::ordered_json j;
  j["i"] = e.index;
  j["t"] = e.time_ns;
  j["ev"] = event_kind_name(e.kind);
  j["ctx"] = e.ctx;
  if (e.co != 0) j["co"] = e.co;
  switch (e.kind) {
    case EventKind::kCoCreate:
      j["name"] = coroutine_name(e);
      break;
    case EventKind::kCoFinish:
      j["threw"] = e.a != 0;
      break;
    case EventKind::kBhRun:
    case EventKind::kTimerFire:
    case EventKind::kExternalRun:
    case EventKind::kNote:
      j["name"] = text(e.label);
      break;
    case EventKind::kRequestBegin:
      j["req"] = e.a;
      j["name"] = text(e.label);
      j["node"] = text(e.label2);
      j["offset"] = e.b;
      j["bytes"] = e.c;
      break;
    case EventKind::kRequestEnd:
      j["req"] = e.a;
      j["name"] = text(e.label);
      j["node"] = text(e.label2);
      j["ret"] = e.d;
      break;
    case EventKind::kWaitBegin:
    case EventKind::kWaitEnd:
      j["holder"] = e.a;
      j["object"] = e.b;
      j["reason"] = text(e.label);
      j["what"] = text(e.label2);
      break;
    case EventKind::kDriverIssue:
      j["op_id"] = e.a;
      j["op"] = text(e.label);
      j["node"] = text(e.label2);
      j["offset"] = e.b;
      j["bytes"] = e.c;
      if (e.d != 0) j["flags"] = e.d;
      break;
    case EventKind::kDriverComplete:
      j["op_id"] = e.a;
      j["op"] = text(e.label);
      j["node"] = text(e.label2);
      j["ret"] = e.d;
      break;
    case EventKind::kFaultFired:
      j["rule"] = text(e.label);
      j["node"] = text(e.label2);
      j["offset"] = e.b;
      j["bytes"] = e.c;
      j["errno"] = e.d;
      break;
    case EventKind::kChoice:
      j["candidates"] = e.a;
      j["chosen"] = e.b;
      break;
    case EventKind::kSerialising:
      j["req"] = e.a;
      j["align"] = e.b;
      j["node"] = text(e.label2);
      break;
    case EventKind::kSerialisingPastWait:
    case EventKind::kNoSerialising:
      j["req"] = e.a;
      j["node"] = text(e.label2);
      break;
    case EventKind::kCoResume:
    case EventKind::kCoYield:
      break;
  }
  return j.dump();
}

void Trace::capture_all(bool all) {
  if (all && !capture_all_) {
    std::vector<TraceEvent> ordered = kept();
    kept_ = std::move(ordered);
    ring_next_ = 0;
  }
  capture_all_ = all;
}

std::vector<TraceEvent> Trace::kept() const {
  std::vector<TraceEvent> out;
  out.reserve(kept_.size());
  // In ring mode kept_[ring_next_] is the oldest once the ring has wrapped.
  for (std::size_t i = 0; i < kept_.size(); ++i) out.push_back(kept_[(ring_next_ + i) % kept_.size()]);
  return out;
}

void Trace::write_jsonl(std::ostream& out) const {
  for (const TraceEvent& event : kept()) out << to_json(event) << '\n';
}

std::string format_fingerprint(std::uint64_t fingerprint) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fingerprint));
  return buf;
}

}  // namespace sim
