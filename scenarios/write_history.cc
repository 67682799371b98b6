#include "scenarios/write_history.h"

#include <algorithm>

#include "sim/invariant.h"
#include "sim/str.h"

namespace scenarios {
namespace {

bool covers(const WriteRecord& w, std::uint64_t i) { return i >= w.offset && i - w.offset < w.bytes; }

bool settled(const WriteRecord& w, const Cutoff& cutoff) {
  if (w.completed == kNeverSettles) return false;
  return w.completed < cutoff.before || (cutoff.fua_settles && w.fua);
}

void add(ByteValues& out, std::uint8_t v) {
  if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
}

}  // namespace

std::size_t WriteHistory::issue(const WriteRecord& record) {
  SIM_ASSERT(record.offset + record.bytes <= base_.size(), "write past the end of the checked node");
  records_.push_back(record);
  records_.back().completed = kNeverSettles;
  records_.back().done = false;
  records_.back().folded = false;
  return records_.size() - 1;
}

void WriteHistory::complete(std::size_t id, std::uint64_t clock, bool ok) {
  SIM_ASSERT(id < records_.size() && !records_[id].done, "completing an unknown or finished write");
  records_[id].done = true;
  if (ok) records_[id].completed = clock;
}

ByteValues WriteHistory::allowed_among(std::uint64_t i, const std::vector<const WriteRecord*>& covering,
                                       const Cutoff& cutoff) const {
  ByteValues out;
  std::vector<const WriteRecord*> left = covering;
  for (;;) {
    const WriteRecord* anchor = nullptr;
    for (const WriteRecord* w : left) {
      if (settled(*w, cutoff) && (anchor == nullptr || w->completed > anchor->completed)) anchor = w;
    }
    if (anchor == nullptr) {
      // Nothing settled: the known content, or anything written since.
      add(out, base_[i]);
      for (const WriteRecord* w : left) add(out, w->value);
      break;
    }
    add(out, anchor->value);
    for (const WriteRecord* w : left) {
      // Ordered before the anchor: completed before it was issued.
      const bool before_anchor = w->completed != kNeverSettles && w->completed < anchor->issued;
      if (w != anchor && !before_anchor) add(out, w->value);
    }
    if (!anchor->discard) break;
    // A discard may also leave what the byte held before it.
    left.erase(std::find(left.begin(), left.end(), anchor));
  }
  std::sort(out.begin(), out.end());
  return out;
}

ByteValues WriteHistory::allowed(std::uint64_t i, const Cutoff& cutoff) const {
  std::vector<const WriteRecord*> covering;
  for (const WriteRecord& w : records_) {
    if (!w.folded && covers(w, i)) covering.push_back(&w);
  }
  return allowed_among(i, covering, cutoff);
}

bool WriteHistory::check(std::uint64_t offset, const std::vector<std::uint8_t>& data, const Cutoff& cutoff,
                         const std::function<void(std::uint64_t, std::uint8_t, const ByteValues&)>& mismatch) const {
  SIM_ASSERT(offset + data.size() <= base_.size(), "checking past the end of the node");
  const std::uint64_t end = offset + data.size();
  // Sweep: the writes overlapping the range, by start; those covering the
  // current byte are the active ones.
  std::vector<const WriteRecord*> overlapping;
  for (const WriteRecord& w : records_) {
    if (!w.folded && w.offset < end && w.offset + w.bytes > offset) overlapping.push_back(&w);
  }
  std::stable_sort(overlapping.begin(), overlapping.end(),
                   [](const WriteRecord* a, const WriteRecord* b) { return a->offset < b->offset; });
  std::vector<const WriteRecord*> active;
  std::size_t next = 0;
  // The allowed values depend only on the covering writes and the byte's known
  // content: computed again only when either changes.
  ByteValues ok;
  bool ok_valid = false;
  std::uint8_t ok_base = 0;
  for (std::uint64_t i = offset; i < end; ++i) {
    const std::size_t before = active.size();
    active.erase(std::remove_if(active.begin(), active.end(), [i](const WriteRecord* w) { return !covers(*w, i); }),
                 active.end());
    bool changed = active.size() != before;
    while (next < overlapping.size() && overlapping[next]->offset <= i) {
      if (covers(*overlapping[next], i)) active.push_back(overlapping[next]);
      ++next;
      changed = true;
    }
    const std::uint8_t v = data[i - offset];
    if (active.empty()) {
      if (v == base_[i]) continue;
    }
    if (changed || !ok_valid || ok_base != base_[i]) {
      ok = allowed_among(i, active, cutoff);
      ok_valid = true;
      ok_base = base_[i];
    }
    if (std::find(ok.begin(), ok.end(), v) == ok.end()) {
      mismatch(i, v, ok);
      return false;
    }
  }
  return true;
}

void WriteHistory::rebase(std::vector<std::uint8_t> content) {
  SIM_ASSERT(content.size() == base_.size(), "rebasing onto content of another size");
  base_ = std::move(content);
  // Ids stay valid: finished records are folded, not erased.
  for (WriteRecord& w : records_) w.folded = w.folded || w.done;
}

std::string describe_values(const ByteValues& values) {
  std::string out;
  for (std::uint8_t v : values) out += sim::cat(out.empty() ? "" : " or ", sim::hex(v));
  return out;
}

}  // namespace scenarios
