#include "drivers/media.h"

#include <algorithm>

#include "sim/invariant.h"

namespace drivers {

std::string_view crash_mode_name(CrashMode mode) {
  switch (mode) {
    case CrashMode::kDropAll: return "drop-all";
    case CrashMode::kRandomSubset: return "random-subset";
    case CrashMode::kTornSectors: return "torn-sectors";
  }
  return "?";
}

std::optional<CrashMode> crash_mode_from_name(std::string_view name) {
  for (CrashMode m : {CrashMode::kDropAll, CrashMode::kRandomSubset, CrashMode::kTornSectors}) {
    if (crash_mode_name(m) == name) return m;
  }
  return std::nullopt;
}

Media::Media(std::uint64_t size_bytes, bool write_cache)
    : write_cache_(write_cache), visible_(size_bytes), durable_base_(size_bytes) {}

absl::Status Media::load_raw(const std::string& path) {
  absl::Status s = visible_.load_raw(path);
  if (!s.ok()) return s;
  durable_base_ = visible_;
  return absl::OkStatus();
}

absl::Status Media::load(absl::Span<const std::uint8_t> content) {
  absl::Status s = visible_.load(content);
  if (!s.ok()) return s;
  durable_base_ = visible_;
  return absl::OkStatus();
}

void Media::apply(SparseImage& image, const Pending& p) const {
  if (p.data.empty()) {
    image.zero(p.offset, p.bytes);
  } else {
    image.write(p.offset, p.bytes, p.data.data());
  }
}

void Media::apply_sector(SparseImage& image, const Pending& p, std::uint64_t sector) const {
  const std::uint64_t from = std::max(p.offset, sector * SparseImage::kSector);
  const std::uint64_t to = std::min(p.offset + p.bytes, (sector + 1) * SparseImage::kSector);
  if (p.data.empty()) {
    image.zero(from, to - from);
  } else {
    image.write(from, to - from, p.data.data() + (from - p.offset));
  }
}

void Media::write(std::uint64_t offset, std::uint64_t bytes, const engine::IoVector& qiov, bool fua) {
  visible_.write(offset, bytes, qiov);
  if (!write_cache_) {
    ++completed_;
    durable_base_.write(offset, bytes, qiov);  // write-through: durable at once, no cached copy
    return;
  }
  Pending p{++completed_, offset, bytes, fua, std::vector<std::uint8_t>(bytes)};
  qiov.copy_to(0, p.data.data(), bytes);
  pending_.push_back(std::move(p));
}

void Media::zero(std::uint64_t offset, std::uint64_t bytes, bool fua) {
  visible_.zero(offset, bytes);
  Pending p{++completed_, offset, bytes, fua, {}};
  if (!write_cache_) {
    apply(durable_base_, p);
    return;
  }
  pending_.push_back(std::move(p));
}

void Media::truncate(std::uint64_t length) {
  const std::uint64_t capacity = visible_.size();
  SIM_ASSERT(length <= capacity, "truncate past the medium's capacity");
  visible_.zero(length, capacity - length);
  durable_base_.zero(length, capacity - length);
  for (Pending& p : pending_) {
    if (p.offset >= length) {
      p.bytes = 0;
    } else if (p.offset + p.bytes > length) {
      p.bytes = length - p.offset;
    }
    if (!p.data.empty()) p.data.resize(p.bytes);
  }
  std::erase_if(pending_, [](const Pending& p) { return p.bytes == 0; });
}

void Media::flush_complete(std::uint64_t ticket) {
  // Everything that completed before the flush began is now durable, in order.
  while (!pending_.empty() && pending_.front().seq <= ticket) {
    apply(durable_base_, pending_.front());
    pending_.pop_front();
  }
}

SparseImage Media::durable() const {
  SparseImage out = durable_base_;
  for (const Pending& p : pending_) {
    if (p.fua) apply(out, p);
  }
  return out;
}

void Media::read_durable(std::uint64_t offset, std::uint64_t bytes, std::uint8_t* dst) const {
  durable_base_.read(offset, bytes, dst);
  // Completed FUA writes are durable already, in completion order.
  for (const Pending& p : pending_) {
    if (!p.fua || p.offset >= offset + bytes || p.offset + p.bytes <= offset) continue;
    const std::uint64_t from = std::max(p.offset, offset);
    const std::uint64_t to = std::min(p.offset + p.bytes, offset + bytes);
    if (p.data.empty()) {
      std::fill(dst + (from - offset), dst + (to - offset), std::uint8_t{0});
    } else {
      std::copy(p.data.begin() + static_cast<std::ptrdiff_t>(from - p.offset),
                p.data.begin() + static_cast<std::ptrdiff_t>(to - p.offset), dst + (from - offset));
    }
  }
}

std::uint64_t Media::survive(SparseImage& image, const Pending& p, CrashMode mode, sim::Rng& rng) const {
  if (p.fua) {
    apply(image, p);
    return 0;
  }
  std::uint64_t lost = 0;
  switch (mode) {
    case CrashMode::kDropAll:
      ++lost;
      break;
    case CrashMode::kRandomSubset:
      if (rng.chance(1, 2)) {
        apply(image, p);
      } else {
        ++lost;
      }
      break;
    case CrashMode::kTornSectors:
      for (std::uint64_t s = p.offset / SparseImage::kSector; s * SparseImage::kSector < p.offset + p.bytes; ++s) {
        if (rng.chance(1, 2)) {
          apply_sector(image, p, s);
        } else {
          ++lost;
        }
      }
      break;
  }
  return lost;
}

std::uint64_t Media::crash(CrashMode mode, sim::Rng& rng) {
  std::uint64_t lost = 0;
  for (const Pending& p : pending_) lost += survive(durable_base_, p, mode, rng);
  pending_.clear();
  visible_ = durable_base_;
  return lost;
}

SparseImage Media::power_cut_image(CrashMode mode, sim::Rng& rng, const std::vector<InFlight>& in_flight) const {
  SparseImage out = durable_base_;
  for (const Pending& p : pending_) survive(out, p, mode, rng);
  // The writes still in flight come after every completed one.
  const auto land = [&out](const InFlight& w, std::uint64_t from, std::uint64_t to) {
    if (w.qiov == nullptr) {
      out.zero(from, to - from);
    } else {
      out.write(from, to - from, *w.qiov, from - w.offset);
    }
  };
  for (const InFlight& w : in_flight) {
    const std::uint64_t end = std::min(w.offset + w.bytes, out.size());
    if (w.offset >= end) continue;
    switch (mode) {
      case CrashMode::kDropAll:
        break;
      case CrashMode::kRandomSubset:
        if (rng.chance(1, 2)) land(w, w.offset, end);
        break;
      case CrashMode::kTornSectors:
        for (std::uint64_t s = w.offset / SparseImage::kSector; s * SparseImage::kSector < end; ++s) {
          if (rng.chance(1, 2)) land(w, std::max(w.offset, s * SparseImage::kSector), std::min(end, (s + 1) * SparseImage::kSector));
        }
        break;
    }
  }
  return out;
}

std::uint64_t Media::oldest_volatile_write() const {
  for (const Pending& p : pending_) {
    if (!p.fua) return p.seq;
  }
  return UINT64_MAX;
}

}  // namespace drivers
