// The writes a node has seen since its last known content (the start of the run,
// or the content read back after a crash), with when each was issued and when it
// completed on a logical clock. From them the data and durability oracles derive
// the values a byte may hold:
//   the anchor is the last write to complete among those settled (completed before
//   a cutoff: the start of a read, or the start of the last successful flush);
//   the byte may hold the anchor's value, or the value of any write not ordered
//   before the anchor (one that overlapped it in time, or is not settled), and
//   nothing else. A discard may also leave whatever was allowed before it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <absl/container/inlined_vector.h>
#include <absl/types/span.h>

namespace scenarios {

inline constexpr std::uint64_t kNeverSettles = UINT64_MAX;

struct WriteRecord {
  std::uint64_t offset = 0;
  std::uint64_t bytes = 0;
  std::uint8_t value = 0;  // the pattern; 0 for zero writes and discards
  // write -s FILE: the file's bytes, repeated from `offset` (then `value` is unused).
  std::shared_ptr<const std::vector<std::uint8_t>> data;
  bool discard = false;
  bool fua = false;
  bool zeroes = false;  // a zero write (value 0)
  bool carried_out = false;  // a discard the disk zeroed: judged as a zero write
  bool truncation = false;   // what a truncate cut off: zeroes past the new length (`offset`)
  // bdrv_make_zero's: written only where block status did not call the range
  // zeroes (a range that already reads as zeroes is left alone, undirtied).
  bool skips_zeroes = false;
  std::uint64_t issued = 0;
  // Completion time on the logical clock; kNeverSettles while in flight or if the
  // write failed (a failed write may have landed in part, at any time).
  std::uint64_t completed = kNeverSettles;
  bool done = false;    // completed or failed
  bool folded = false;  // part of the known content since a rebase
};

// The byte a write puts at `i` (inside it).
inline std::uint8_t value_at(const WriteRecord& w, std::uint64_t i) {
  return w.data != nullptr ? (*w.data)[(i - w.offset) % w.data->size()] : w.value;
}

// Which writes count as settled for one judgement.
struct Cutoff {
  std::uint64_t before = kNeverSettles;  // writes completed strictly before this
  bool fua_settles = false;              // and, for durability, every completed FUA write
  // Writes issued at or after this are not there at all (a point in time:
  // what the node held at `before` when both are that instant).
  std::uint64_t issued_before = kNeverSettles;
};

using ByteValues = absl::InlinedVector<std::uint8_t, 8>;

// Why a byte's value is wrong: part of a failure's signature.
enum class WrongContent : std::uint8_t {
  kStale,         // an older value: the newest settled write left no trace in the range judged
  kTorn,          // the newest settled write shows in part of the range judged, not at this byte
  kNeverWritten,  // no write (nor the known content) ever put this value at this byte
};
// In the words of a report: what a read saw ("stale pre-image") or what
// happened to a write a stored image should hold ("lost write").
std::string_view wrong_content_name(WrongContent kind, bool seen_by_read);

struct Diagnosis {
  WrongContent kind = WrongContent::kNeverWritten;
  const WriteRecord* expected = nullptr;  // the newest settled write covering the byte, if any
};
// "write", "write -f", "write -z", "discard": the kind of request a record is.
std::string write_kind(const WriteRecord& w);

class WriteHistory {
 public:
  using Ranges = std::vector<std::pair<std::uint64_t, std::uint64_t>>;  // [begin, end)

  WriteHistory() = default;
  explicit WriteHistory(std::vector<std::uint8_t> base) : size_(base.size()), base_(std::move(base)) {}
  // A node known to read as zeroes: no buffer until a crash gives it content
  // (a fresh 256 MiB node costs nothing until then).
  static WriteHistory zeroes(std::uint64_t size) {
    WriteHistory h;
    h.size_ = size;
    return h;
  }

  std::uint64_t size() const { return size_; }
  // A format node's discard may leave a cluster unallocated, so that it reads
  // what is below it (its backing) again: what the node held before any job
  // wrote (set_initial) is allowed after a discard too.
  void set_discard_reveals_initial(bool on) { discard_reveals_initial_ = on; }
  // The content before any job wrote, when it is not all zeroes.
  void set_initial(std::vector<std::uint8_t> content) {
    if (discard_reveals_initial_) initial_ = content;
    rebase(std::move(content));
  }
  // Records still judged (not folded into the known content).
  std::size_t records() const {
    std::size_t n = 0;
    for (const WriteRecord& w : records_) n += w.folded ? 0 : 1;
    return n;
  }

  // Every record, in issue order (folded ones too): for oracles that judge
  // state other than content (dirty bitmaps).
  const std::vector<WriteRecord>& all_records() const { return records_; }

  // The ranges written since the last rebase, merged, in offset order.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> written_ranges() const;

  std::size_t issue(const WriteRecord& record);
  void complete(std::size_t id, std::uint64_t clock, bool ok);
  // An issued write whose FUA promises nothing (emulated by a flush that
  // cache.no-flush keeps from the disk): durable only as a plain write.
  void drop_fua(std::size_t id);
  // A completed write that a flush covering it made durable since (the flush
  // of bdrv_pwrite_sync): from now on it counts as a completed FUA write.
  void settle_durable(std::size_t id);
  // A completed discard that the disk is known to have carried out exactly
  // (it zeroes what it discards): from now on it is a zero write, which a
  // later flush must make durable like any other.
  void discard_carried_out(std::size_t id);

  // The values byte `i` may hold under `cutoff`, sorted, without repeats.
  ByteValues allowed(std::uint64_t i, const Cutoff& cutoff) const;

  // Checks `data`, the content of [offset, offset + data.size()), against
  // `cutoff`; calls `mismatch(byte, value, allowed)` for the first wrong byte and
  // returns false, or returns true.
  bool check(std::uint64_t offset, absl::Span<const std::uint8_t> data, const Cutoff& cutoff,
             const std::function<void(std::uint64_t, std::uint8_t, const ByteValues&)>& mismatch) const;

  // Why `data[i - offset]` (judged wrong under `cutoff`) is wrong, with
  // `data` the content of [offset, offset + data.size()) it was judged in.
  Diagnosis diagnose(std::uint64_t i, std::uint64_t offset, absl::Span<const std::uint8_t> data,
                     const Cutoff& cutoff) const;

  // Ranges (merged, in offset order) that surely hold data written since the
  // last rebase: covered by a data write (not a zero write or discard) that
  // completed before `before`, with every zero write or discard over them
  // completed before that write was issued. A format or protocol that reports
  // allocation must report these bytes allocated.
  Ranges settled_data_ranges(std::uint64_t before) const;
  // The parts of [offset, offset + bytes), put in the node by something issued
  // at `issued` (a copy-on-read's write-back), that no zero write or discard
  // not completed before then may have undone.
  Ranges surviving(std::uint64_t offset, std::uint64_t bytes, std::uint64_t issued) const;

  // The first byte of [begin, end) that may not hold `value` under `cutoff`
  // (`end` if every byte may).
  std::uint64_t first_excluding(std::uint8_t value, std::uint64_t begin, std::uint64_t end, const Cutoff& cutoff) const;

  // After a crash: `content` is the node's new known state. Writes still in
  // flight stay (they may land later); the rest are folded into the content.
  void rebase(std::vector<std::uint8_t> content);

 private:
  // The writes whose value a byte covered by `covering` may hold under
  // `cutoff`, and whether its known content may still show.
  struct Plan {
    bool base = false;
    std::vector<const WriteRecord*> writes;  // may repeat one: values are deduplicated
  };
  Plan plan_among(const std::vector<const WriteRecord*>& covering, const Cutoff& cutoff) const;
  ByteValues values_at(std::uint64_t i, const Plan& plan) const;

  // The known content of byte i.
  std::uint8_t base_at(std::uint64_t i) const { return base_.empty() ? 0 : base_[i]; }
  std::uint8_t initial_at(std::uint64_t i) const { return initial_.empty() ? 0 : initial_[i]; }

  // The records (by id) whose range may meet [begin, end), each once.
  void overlapping(std::uint64_t begin, std::uint64_t end, std::vector<const WriteRecord*>& out) const;
  void index(std::uint32_t id);

  std::uint64_t size_ = 0;
  bool discard_reveals_initial_ = false;
  std::vector<std::uint8_t> initial_;  // with discard_reveals_initial_: empty for all zeroes
  std::vector<std::uint8_t> base_;  // empty: all zeroes; else size_ bytes
  std::vector<WriteRecord> records_;
  // An index of records by the kChunk-byte chunks they cover, so that judging a
  // range looks at the writes near it, not at every write of the run. A record
  // covering more than kMaxChunksPerRecord chunks goes to wide_ instead, which
  // every lookup scans (few writes are that large). The first kDenseChunks
  // chunks (a node of up to 256 MiB) are a vector; chunks past them, of huge
  // nodes written at large offsets, an ordered map (visited by range, in order).
  static constexpr std::uint64_t kChunk = 64 * 1024;
  static constexpr std::uint64_t kMaxChunksPerRecord = 64;
  static constexpr std::uint64_t kDenseChunks = (256ULL << 20) / kChunk;
  std::vector<std::vector<std::uint32_t>> chunks_;
  std::map<std::uint64_t, std::vector<std::uint32_t>> far_chunks_;
  std::vector<std::uint32_t> wide_;
};

std::string describe_values(const ByteValues& values);

}  // namespace scenarios
