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
};

std::uint64_t mix(std::uint64_t h, std::uint64_t value) {
  std::uint64_t state = h ^ value;
  return splitmix64(state);
}

}  // namespace

std::string_view event_kind_name(EventKind kind) { return kKindNames[static_cast<std::size_t>(kind)]; }

Trace::Trace(std::size_t ring_capacity) : ring_capacity_(ring_capacity), fingerprint_(0x626c6b73696d0001ULL) {
  SIM_ASSERT(ring_capacity_ > 0, "trace ring needs room for at least one event");
  intern("");
}

std::uint32_t Trace::intern(std::string_view text) {
  auto it = string_ids_.find(absl::string_view(text.data(), text.size()));
  if (it != string_ids_.end()) return it->second;
  auto id = static_cast<std::uint32_t>(strings_.size());
  strings_.emplace_back(text);
  string_hashes_.push_back(hash_string(text));
  string_ids_.emplace(std::string(text), id);
  return id;
}

void Trace::record(TraceEvent event) {
  event.index = count_++;
  // Every field that carries meaning feeds the fingerprint; labels by content, so
  // the fingerprint does not depend on the order strings were first interned.
  std::uint64_t h = fingerprint_;
  h = mix(h, event.time_ns);
  h = mix(h, static_cast<std::uint64_t>(event.kind) | (std::uint64_t{event.ctx} << 8));
  h = mix(h, event.co);
  h = mix(h, event.a);
  h = mix(h, event.b);
  h = mix(h, event.c);
  h = mix(h, static_cast<std::uint64_t>(event.d));
  h = mix(h, string_hashes_[event.label]);
  h = mix(h, string_hashes_[event.label2]);
  fingerprint_ = h;

  kept_.push_back(event);
  if (!capture_all_ && kept_.size() > ring_capacity_) kept_.pop_front();
  if (stream_ != nullptr) *stream_ << to_json(event) << '\n';
  for (const Observer& observer : observers_) observer(*this, event);
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
      j["name"] = text(e.label);
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
    case EventKind::kCoResume:
    case EventKind::kCoYield:
      break;
  }
  return j.dump();
}

void Trace::write_jsonl(std::ostream& out) const {
  for (const TraceEvent& event : kept_) out << to_json(event) << '\n';
}

std::string format_fingerprint(std::uint64_t fingerprint) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fingerprint));
  return buf;
}

}  // namespace sim
