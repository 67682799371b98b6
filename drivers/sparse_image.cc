#include "drivers/sparse_image.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <vector>

#include "sim/invariant.h"
#include "sim/str.h"

namespace drivers {

SparseImage::SparseImage(std::uint64_t size_bytes) : size_(size_bytes) {
  SIM_ASSERT(size_bytes <= kMaxBytes, "image larger than 2^62 bytes");
}

template <typename Fn>
void SparseImage::for_each_piece(std::uint64_t offset, std::uint64_t bytes, Fn&& fn) const {
  const std::uint64_t end = offset + bytes;
  std::uint64_t pos = offset;
  for (auto it = sectors_.lower_bound(offset / kSector); it != sectors_.end() && it->first * kSector < end; ++it) {
    const std::uint64_t s_begin = it->first * kSector;
    const std::uint64_t from = std::max(offset, s_begin);
    const std::uint64_t to = std::min(end, s_begin + kSector);
    if (from > pos) fn(pos, from - pos, nullptr);
    fn(from, to - from, it->second->data() + (from - s_begin));
    pos = to;
  }
  if (pos < end) fn(pos, end - pos, nullptr);
}

SparseImage::SparseImage(const SparseImage& other) : size_(other.size_) {
  for (const auto& [index, sector] : other.sectors_) {
    sectors_.emplace_hint(sectors_.end(), index, std::make_unique<Sector>(*sector));
  }
}

SparseImage& SparseImage::operator=(const SparseImage& other) {
  if (this != &other) *this = SparseImage(other);
  return *this;
}

void SparseImage::read(std::uint64_t offset, std::uint64_t bytes, std::uint8_t* dst) const {
  for_each_piece(offset, bytes, [&](std::uint64_t at, std::uint64_t n, const std::uint8_t* data) {
    if (data != nullptr) {
      std::memcpy(dst + (at - offset), data, n);
    } else {
      std::memset(dst + (at - offset), 0, n);
    }
  });
}

void SparseImage::read(std::uint64_t offset, std::uint64_t bytes, engine::IoVector& qiov, std::size_t qiov_offset) const {
  // Straight into the vector: no bounce buffer per request.
  for_each_piece(offset, bytes, [&](std::uint64_t at, std::uint64_t n, const std::uint8_t* data) {
    const std::size_t into = qiov_offset + (at - offset);
    if (data != nullptr) {
      qiov.copy_from(into, data, n);
    } else {
      qiov.memset(into, 0, n);
    }
  });
}

SparseImage::Sector& SparseImage::sector_for_write(std::uint64_t index) {
  auto [it, inserted] = sectors_.try_emplace(index);
  if (inserted) it->second = std::make_unique<Sector>();  // value-initialised: zeroes
  return *it->second;
}

template <typename Fill>
void SparseImage::write_pieces(std::uint64_t offset, std::uint64_t bytes, Fill&& fill) {
  SIM_ASSERT(offset + bytes <= size_, "write past the end of the image");
  std::uint64_t done = 0;
  while (done < bytes) {
    const std::uint64_t pos = offset + done;
    const std::uint64_t in_sector = pos % kSector;
    const std::uint64_t n = std::min(kSector - in_sector, bytes - done);
    fill(done, sector_for_write(pos / kSector).data() + in_sector, n);
    done += n;
  }
}

void SparseImage::write(std::uint64_t offset, std::uint64_t bytes, const std::uint8_t* src) {
  write_pieces(offset, bytes,
               [&](std::uint64_t done, std::uint8_t* dst, std::uint64_t n) { std::memcpy(dst, src + done, n); });
}

void SparseImage::write(std::uint64_t offset, std::uint64_t bytes, const engine::IoVector& qiov,
                        std::size_t qiov_offset) {
  write_pieces(offset, bytes, [&](std::uint64_t done, std::uint8_t* dst, std::uint64_t n) {
    qiov.copy_to(qiov_offset + done, dst, n);
  });
}

void SparseImage::zero(std::uint64_t offset, std::uint64_t bytes) {
  const std::uint64_t end = std::min(offset + bytes, size_);
  std::uint64_t pos = offset;
  while (pos < end) {
    const std::uint64_t index = pos / kSector;
    const std::uint64_t in_sector = pos % kSector;
    const std::uint64_t n = std::min(kSector - in_sector, end - pos);
    if (n == kSector) {
      sectors_.erase(index);
    } else if (auto it = sectors_.find(index); it != sectors_.end()) {
      std::memset(it->second->data() + in_sector, 0, n);
    }
    pos += n;
  }
}

absl::Status SparseImage::load_raw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(sim::cat(path, ": cannot open image file"));
  std::vector<std::uint8_t> buf(1 << 20);
  std::uint64_t offset = 0;
  while (in) {
    in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(buf.size()));
    const auto got = static_cast<std::uint64_t>(in.gcount());
    if (got == 0) break;
    if (offset + got > size_) {
      return absl::InvalidArgumentError(sim::cat(path, ": image file is larger than the node (", size_, " bytes)"));
    }
    // Zero sectors stay holes.
    for (std::uint64_t s = 0; s < got; s += kSector) {
      const std::uint64_t n = std::min(kSector, got - s);
      if (std::any_of(buf.begin() + static_cast<std::ptrdiff_t>(s), buf.begin() + static_cast<std::ptrdiff_t>(s + n),
                      [](std::uint8_t b) { return b != 0; })) {
        write(offset + s, n, buf.data() + s);
      }
    }
    offset += got;
  }
  return absl::OkStatus();
}

absl::Status SparseImage::save_raw(const std::string& path) const {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::PermissionDeniedError(sim::cat(path, ": cannot write image file"));
  std::vector<std::uint8_t> buf(1 << 20);
  for (std::uint64_t offset = 0; offset < size_; offset += buf.size()) {
    const std::uint64_t n = std::min<std::uint64_t>(buf.size(), size_ - offset);
    read(offset, n, buf.data());
    out.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(n));
  }
  out.flush();
  if (!out) return absl::DataLossError(sim::cat(path, ": write failed"));
  return absl::OkStatus();
}

bool SparseImage::operator==(const SparseImage& other) const {
  if (size_ != other.size_) return false;
  // Equal content, whatever is stored as a hole or as zeroed data.
  static const Sector kZero{};
  auto a = sectors_.begin();
  auto b = other.sectors_.begin();
  while (a != sectors_.end() || b != other.sectors_.end()) {
    if (b == other.sectors_.end() || (a != sectors_.end() && a->first < b->first)) {
      if (*a->second != kZero) return false;
      ++a;
    } else if (a == sectors_.end() || b->first < a->first) {
      if (*b->second != kZero) return false;
      ++b;
    } else {
      if (*a->second != *b->second) return false;
      ++a;
      ++b;
    }
  }
  return true;
}

}  // namespace drivers
