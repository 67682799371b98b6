#include "scenarios/write_history.h"

#include <algorithm>
#include <cstring>

#include "sim/invariant.h"
#include "sim/str.h"

namespace scenarios {
namespace {

bool covers(const WriteRecord& w, std::uint64_t i) { return i >= w.offset && i - w.offset < w.bytes; }

bool settled(const WriteRecord& w, const Cutoff& cutoff) {
  if (w.completed == kNeverSettles) return false;
  return w.completed < cutoff.before || (cutoff.fua_settles && w.fua);
}

bool all_zero(const std::uint8_t* p, std::uint64_t n) {
  static const std::uint8_t kZeroes[4096] = {};
  for (; n > 0;) {
    const std::uint64_t k = std::min<std::uint64_t>(n, sizeof kZeroes);
    if (std::memcmp(p, kZeroes, k) != 0) return false;
    p += k;
    n -= k;
  }
  return true;
}

// The index of the first of `n` bytes at `p` that is not one of `ok`, or n.
// Over a segment whose allowed values do not vary: a word at a time for the
// common single value, a table lookup otherwise.
std::uint64_t first_outside(const std::uint8_t* p, std::uint64_t n, const ByteValues& ok) {
  std::uint64_t i = 0;
  if (ok.size() == 1) {
    const std::uint64_t pattern = 0x0101010101010101ULL * ok[0];
    for (; i + 8 <= n; i += 8) {
      std::uint64_t word;
      std::memcpy(&word, p + i, sizeof word);
      if (word != pattern) break;
    }
    for (; i < n; ++i) {
      if (p[i] != ok[0]) return i;
    }
    return n;
  }
  bool allowed[256] = {};
  for (std::uint8_t v : ok) allowed[v] = true;
  for (; i < n; ++i) {
    if (!allowed[p[i]]) return i;
  }
  return n;
}

void add(ByteValues& out, std::uint8_t v) {
  if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
}

}  // namespace

namespace {

using Ranges = std::vector<std::pair<std::uint64_t, std::uint64_t>>;

Ranges merged(Ranges ranges) {
  std::sort(ranges.begin(), ranges.end());
  Ranges out;
  for (const auto& r : ranges) {
    if (!out.empty() && r.first <= out.back().second) {
      out.back().second = std::max(out.back().second, r.second);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

// [begin, end) without the parts `holes` covers.
void subtract(std::uint64_t begin, std::uint64_t end, const Ranges& holes, Ranges& out) {
  for (const auto& [hb, he] : holes) {  // holes: merged, in offset order
    if (he <= begin || hb >= end) continue;
    if (hb > begin) out.emplace_back(begin, hb);
    begin = std::max(begin, he);
    if (begin >= end) return;
  }
  if (begin < end) out.emplace_back(begin, end);
}

}  // namespace

std::vector<std::pair<std::uint64_t, std::uint64_t>> WriteHistory::written_ranges() const {
  Ranges ranges;  // [begin, end)
  for (const WriteRecord& w : records_) {
    if (!w.folded) ranges.emplace_back(w.offset, w.offset + w.bytes);
  }
  return merged(std::move(ranges));
}


WriteHistory::Ranges WriteHistory::surviving(std::uint64_t offset, std::uint64_t bytes, std::uint64_t issued) const {
  std::vector<const WriteRecord*> near;
  overlapping(offset, offset + bytes, near);
  Ranges holes;
  for (const WriteRecord* z : near) {
    // A zero write or discard not finished before it began may have
    // deallocated its bytes after it.
    if ((z->discard || z->zeroes) && !(z->completed < issued)) holes.emplace_back(z->offset, z->offset + z->bytes);
  }
  Ranges out;
  subtract(offset, offset + bytes, merged(std::move(holes)), out);
  return out;
}

WriteHistory::Ranges WriteHistory::settled_data_ranges(std::uint64_t before) const {
  Ranges out;
  for (const WriteRecord& w : records_) {
    if (w.folded || w.discard || w.zeroes || w.completed >= before) continue;
    for (const auto& r : surviving(w.offset, w.bytes, w.issued)) out.push_back(r);
  }
  return merged(std::move(out));
}

std::uint64_t WriteHistory::first_excluding(std::uint8_t value, std::uint64_t begin, std::uint64_t end,
                                            const Cutoff& cutoff) const {
  std::vector<const WriteRecord*> near;
  overlapping(begin, end, near);
  // Writes issued at or after the cutoff's point in time are not there at all.
  std::erase_if(near, [&](const WriteRecord* w) { return w->issued >= cutoff.issued_before; });
  Ranges covered;
  for (const WriteRecord* w : near) covered.emplace_back(std::max(w->offset, begin), std::min(w->offset + w->bytes, end));
  covered = merged(std::move(covered));
  // Bytes no write touched hold the known content; the others are judged one by one.
  Ranges untouched;
  subtract(begin, end, covered, untouched);
  std::uint64_t first = end;
  for (const auto& [b, e] : untouched) {
    if (base_.empty()) {  // all zeroes
      if (value != 0) first = std::min(first, b);
      continue;
    }
    for (std::uint64_t i = b; i < e && i < first; ++i) {
      if (base_[i] != value) first = i;
    }
  }
  for (const auto& [b, e] : covered) {
    for (std::uint64_t i = b; i < e && i < first; ++i) {
      const ByteValues ok = allowed(i, cutoff);
      if (std::find(ok.begin(), ok.end(), value) == ok.end()) first = i;
    }
  }
  return first;
}

std::size_t WriteHistory::issue(const WriteRecord& record) {
  SIM_ASSERT(record.offset + record.bytes <= size_, "write past the end of the checked node");
  SIM_ASSERT(records_.size() < UINT32_MAX, "too many writes for one history");
  records_.push_back(record);
  records_.back().completed = kNeverSettles;
  records_.back().done = false;
  records_.back().folded = false;
  index(static_cast<std::uint32_t>(records_.size() - 1));
  return records_.size() - 1;
}

void WriteHistory::index(std::uint32_t id) {
  const WriteRecord& w = records_[id];
  if (w.bytes == 0) return;
  const std::uint64_t first = w.offset / kChunk;
  const std::uint64_t last = (w.offset + w.bytes - 1) / kChunk;
  if (last - first + 1 > kMaxChunksPerRecord) {
    wide_.push_back(id);
    return;
  }
  for (std::uint64_t c = first; c <= last; ++c) {
    if (c < kDenseChunks) {
      if (chunks_.size() <= c) chunks_.resize(c + 1);
      chunks_[c].push_back(id);
    } else {
      far_chunks_[c].push_back(id);
    }
  }
}

void WriteHistory::overlapping(std::uint64_t begin, std::uint64_t end, std::vector<const WriteRecord*>& out) const {
  out.clear();
  const auto meets = [&](const WriteRecord& w) { return !w.folded && w.offset < end && w.offset + w.bytes > begin; };
  for (std::uint32_t id : wide_) {
    if (meets(records_[id])) out.push_back(&records_[id]);
  }
  if (begin >= end) return;
  const std::uint64_t first = begin / kChunk;
  const std::uint64_t last = (end - 1) / kChunk + 1;  // exclusive
  // A record in several chunks is taken in the first chunk it shares with the range.
  const auto take = [&](std::uint64_t c, const std::vector<std::uint32_t>& ids) {
    for (std::uint32_t id : ids) {
      const WriteRecord& w = records_[id];
      if (meets(w) && std::max(w.offset, begin) / kChunk == c) out.push_back(&w);
    }
  };
  for (std::uint64_t c = first; c < std::min<std::uint64_t>(last, chunks_.size()); ++c) take(c, chunks_[c]);
  if (last > kDenseChunks) {
    for (auto it = far_chunks_.lower_bound(first); it != far_chunks_.end() && it->first < last; ++it) {
      take(it->first, it->second);
    }
  }
}

void WriteHistory::complete(std::size_t id, std::uint64_t clock, bool ok) {
  SIM_ASSERT(id < records_.size() && !records_[id].done, "completing an unknown or finished write");
  records_[id].done = true;
  if (ok) records_[id].completed = clock;
}

void WriteHistory::drop_fua(std::size_t id) {
  SIM_ASSERT(id < records_.size() && !records_[id].done, "dropping FUA of an unknown or finished write");
  records_[id].fua = false;
}

void WriteHistory::settle_durable(std::size_t id) {
  SIM_ASSERT(id < records_.size() && records_[id].done && records_[id].completed != kNeverSettles,
             "only a completed write is made durable");
  records_[id].fua = true;
}

void WriteHistory::discard_carried_out(std::size_t id) {
  SIM_ASSERT(id < records_.size() && records_[id].discard && records_[id].completed != kNeverSettles,
             "only a completed discard is carried out");
  records_[id].discard = false;
  records_[id].zeroes = true;
  records_[id].carried_out = true;
}

WriteHistory::Plan WriteHistory::plan_among(const std::vector<const WriteRecord*>& covering, const Cutoff& cutoff) const {
  // Which writes may have left their value depends on their order and the
  // cutoff only, not on the byte: worked out once per segment of a check.
  Plan plan;
  std::vector<const WriteRecord*> left;
  for (const WriteRecord* w : covering) {
    if (w->issued < cutoff.issued_before) left.push_back(w);
  }
  for (;;) {
    const WriteRecord* anchor = nullptr;
    for (const WriteRecord* w : left) {
      if (settled(*w, cutoff) && (anchor == nullptr || w->completed > anchor->completed)) anchor = w;
    }
    if (anchor == nullptr) {
      // Nothing settled: the known content, or anything written since.
      plan.base = true;
      plan.writes.insert(plan.writes.end(), left.begin(), left.end());
      break;
    }
    plan.writes.push_back(anchor);
    for (const WriteRecord* w : left) {
      // Ordered before the anchor: completed before it was issued.
      const bool before_anchor = w->completed != kNeverSettles && w->completed < anchor->issued;
      if (w != anchor && !before_anchor) plan.writes.push_back(w);
    }
    if (!anchor->discard) break;
    // A discard may also leave what the byte held before it.
    left.erase(std::find(left.begin(), left.end(), anchor));
  }
  return plan;
}

ByteValues WriteHistory::values_at(std::uint64_t i, const Plan& plan) const {
  ByteValues out;
  if (plan.base) add(out, base_at(i));
  // What a write may have left: its value, and for a discard that unallocates
  // (discard_reveals_initial_) what the node held before any job wrote.
  for (const WriteRecord* w : plan.writes) {
    add(out, value_at(*w, i));
    if (w->discard && discard_reveals_initial_) add(out, initial_at(i));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The reference the indexed check is tested against: every record, byte by byte.
ByteValues WriteHistory::allowed(std::uint64_t i, const Cutoff& cutoff) const {
  std::vector<const WriteRecord*> covering;
  for (const WriteRecord& w : records_) {
    if (!w.folded && covers(w, i)) covering.push_back(&w);
  }
  return values_at(i, plan_among(covering, cutoff));
}

bool WriteHistory::check(std::uint64_t offset, absl::Span<const std::uint8_t> data, const Cutoff& cutoff,
                         const std::function<void(std::uint64_t, std::uint8_t, const ByteValues&)>& mismatch) const {
  SIM_ASSERT(offset + data.size() <= size_, "checking past the end of the node");
  const std::uint64_t end = offset + data.size();
  std::vector<const WriteRecord*> spans;
  overlapping(offset, end, spans);
  std::vector<std::uint64_t> cuts = {offset, end};
  for (const WriteRecord* w : spans) {
    cuts.push_back(std::max(w->offset, offset));
    cuts.push_back(std::min(w->offset + w->bytes, end));
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  // Sweep the cuts in order with the writes covering the current segment:
  // between two cuts they are the same, so the allowed values depend only on
  // the byte's known content.
  std::sort(spans.begin(), spans.end(), [](const WriteRecord* x, const WriteRecord* y) { return x->offset < y->offset; });
  std::size_t next_span = 0;
  std::vector<const WriteRecord*> active;
  for (std::size_t k = 0; k + 1 < cuts.size(); ++k) {
    const std::uint64_t a = cuts[k];
    const std::uint64_t b = cuts[k + 1];
    std::erase_if(active, [a](const WriteRecord* w) { return w->offset + w->bytes <= a; });
    for (; next_span < spans.size() && std::max(spans[next_span]->offset, offset) <= a; ++next_span) {
      if (covers(*spans[next_span], a)) active.push_back(spans[next_span]);
    }
    if (active.empty()) {
      const std::uint8_t* got = data.data() + (a - offset);
      const bool same = base_.empty() ? all_zero(got, b - a) : std::memcmp(got, base_.data() + a, b - a) == 0;
      if (same) continue;
    }
    const Plan plan = plan_among(active, cutoff);
    // A write of a pattern file puts other bytes at every offset: judged byte by byte.
    const bool varies = std::any_of(active.begin(), active.end(), [](const WriteRecord* w) { return w->data != nullptr; });
    if (varies) {
      for (std::uint64_t i = a; i < b; ++i) {
        const ByteValues ok = values_at(i, plan);
        const std::uint8_t v = data[i - offset];
        if (std::find(ok.begin(), ok.end(), v) == ok.end()) {
          mismatch(i, v, ok);
          return false;
        }
      }
      continue;
    }
    if (base_.empty()) {
      // Known content is zero throughout: one set of allowed values for the segment.
      const ByteValues ok = values_at(a, plan);
      const std::uint8_t* got = data.data() + (a - offset);
      const std::uint64_t bad = first_outside(got, b - a, ok);
      if (bad == b - a) continue;
      mismatch(a + bad, got[bad], ok);
      return false;
    }
    ByteValues ok;
    bool ok_valid = false;
    std::uint8_t ok_base = 0;
    std::uint8_t ok_initial = 0;
    for (std::uint64_t i = a; i < b; ++i) {
      const std::uint8_t v = data[i - offset];
      if (!ok_valid || ok_base != base_at(i) || ok_initial != initial_at(i)) {
        ok = values_at(i, plan);
        ok_valid = true;
        ok_base = base_at(i);
        ok_initial = initial_at(i);
      }
      if (std::find(ok.begin(), ok.end(), v) == ok.end()) {
        mismatch(i, v, ok);
        return false;
      }
    }
  }
  return true;
}

void WriteHistory::rebase(std::vector<std::uint8_t> content) {
  SIM_ASSERT(content.size() == size_, "rebasing onto content of another size");
  base_ = std::move(content);
  // Ids stay valid: finished records are folded, not erased.
  for (WriteRecord& w : records_) w.folded = w.folded || w.done;
}

Diagnosis WriteHistory::diagnose(std::uint64_t i, std::uint64_t offset, absl::Span<const std::uint8_t> data,
                                 const Cutoff& cutoff) const {
  SIM_ASSERT(i >= offset && i - offset < data.size(), "diagnosing a byte outside the data judged");
  const std::uint8_t v = data[i - offset];
  Diagnosis d;
  bool ever = base_at(i) == v;
  for (const WriteRecord& w : records_) {
    if (w.folded || !covers(w, i)) continue;
    ever = ever || value_at(w, i) == v;
    if (settled(w, cutoff) && (d.expected == nullptr || w.completed > d.expected->completed)) d.expected = &w;
  }
  if (!ever || d.expected == nullptr) {
    d.kind = WrongContent::kNeverWritten;
    return d;
  }
  // Torn: the expected write's value is somewhere in its part of the range.
  const WriteRecord& w = *d.expected;
  const std::uint64_t begin = std::max(w.offset, offset);
  const std::uint64_t end = std::min(w.offset + w.bytes, offset + data.size());
  d.kind = WrongContent::kStale;
  for (std::uint64_t k = begin; k < end; ++k) {
    if (data[k - offset] == value_at(w, k)) {
      d.kind = WrongContent::kTorn;
      break;
    }
  }
  return d;
}

std::string_view wrong_content_name(WrongContent kind, bool seen_by_read) {
  switch (kind) {
    case WrongContent::kStale: return seen_by_read ? "stale pre-image" : "lost write";
    case WrongContent::kTorn: return "torn write";
    case WrongContent::kNeverWritten: return "pattern never written";
  }
  return "?";
}

std::string write_kind(const WriteRecord& w) {
  if (w.discard || w.carried_out) return "discard";
  if (w.zeroes) return w.fua ? "write -z -f" : "write -z";
  return w.fua ? "write -f" : "write";
}

std::string describe_values(const ByteValues& values) {
  std::string out;
  for (std::uint8_t v : values) out += sim::cat(out.empty() ? "" : " or ", sim::hex(v));
  return out;
}

}  // namespace scenarios
