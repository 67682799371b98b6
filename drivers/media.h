// Media: what a disk with a volatile write cache keeps, and what a power loss
// leaves of it.
//
// Completed writes land in the visible image and in a list of pending (cached)
// writes. A flush that began after N pending writes had completed makes those N
// durable when it completes; FUA writes are durable on completion. A crash keeps
// the durable image plus, by mode, none of the pending writes, a random subset
// of them, or a random subset of their sectors (torn writes), replayed in
// completion order so that later writes still win.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <vector>

#include "drivers/sparse_image.h"
#include "sim/rng.h"

namespace drivers {

enum class CrashMode : std::uint8_t { kDropAll, kRandomSubset, kTornSectors };
std::string_view crash_mode_name(CrashMode mode);
std::optional<CrashMode> crash_mode_from_name(std::string_view name);

class Media {
 public:
  Media(std::uint64_t size_bytes, bool write_cache);

  std::uint64_t size() const { return visible_.size(); }
  bool write_cache() const { return write_cache_; }
  const SparseImage& visible() const { return visible_; }
  // What a crash in kDropAll mode would leave now.
  SparseImage durable() const;
  // Bytes [offset, offset + bytes) of durable(), without building it.
  void read_durable(std::uint64_t offset, std::uint64_t bytes, std::uint8_t* dst) const;
  std::size_t pending_writes() const { return pending_.size(); }

  // Initial content, both visible and durable.
  absl::Status load_raw(const std::string& path);
  absl::Status load(absl::Span<const std::uint8_t> content);

  void write(std::uint64_t offset, std::uint64_t bytes, const engine::IoVector& qiov, bool fua);
  void zero(std::uint64_t offset, std::uint64_t bytes, bool fua);
  // A file shortened to `length`: every byte past it is zero, visible and
  // durable, and no cached write keeps any (the length is metadata this model
  // treats as durable at once).
  void truncate(std::uint64_t length);

  // A flush: begin() before the device starts it, complete(ticket) when it has
  // succeeded. Writes completed between the two are not covered.
  std::uint64_t flush_begin() const { return completed_; }
  // Writes completed so far, and the completion number of the oldest write
  // still only in the volatile cache (UINT64_MAX: none). FUA writes are durable
  // already and do not count.
  std::uint64_t completed_writes() const { return completed_; }
  std::uint64_t oldest_volatile_write() const;
  void flush_complete(std::uint64_t ticket);

  // Power loss: the visible image becomes what survived. Returns the number of
  // pending writes (or, torn, sectors) lost.
  std::uint64_t crash(CrashMode mode, sim::Rng& rng);

  // A write the device has been given and not finished: at a power cut it may
  // have reached the medium whole, in part (torn at sectors) or not at all.
  struct InFlight {
    std::uint64_t offset = 0;
    std::uint64_t bytes = 0;
    const engine::IoVector* qiov = nullptr;  // nullptr: zeroes (a zero write, a discard)
  };
  // What a power cut now would leave, without cutting anything: the durable
  // image, the cached writes by `mode` as crash() keeps them, then the writes
  // in flight by the same mode (drop-all: none; random-subset: each whole or
  // not; torn-sectors: each sector or not).
  SparseImage power_cut_image(CrashMode mode, sim::Rng& rng, const std::vector<InFlight>& in_flight) const;

 private:
  struct Pending {
    std::uint64_t seq;  // completion order, 1-based
    std::uint64_t offset;
    std::uint64_t bytes;
    bool fua;
    std::vector<std::uint8_t> data;  // empty: zeroes
  };
  void apply(SparseImage& image, const Pending& p) const;
  // Applies what of cached write `p` survives a power loss by `mode` to
  // `image`; returns the writes (torn: sectors) lost.
  std::uint64_t survive(SparseImage& image, const Pending& p, CrashMode mode, sim::Rng& rng) const;
  void apply_sector(SparseImage& image, const Pending& p, std::uint64_t sector) const;

  bool write_cache_;
  SparseImage visible_;
  SparseImage durable_base_;  // durable, not counting FUA writes still pending
  std::deque<Pending> pending_;
  std::uint64_t completed_ = 0;
};

}  // namespace drivers
