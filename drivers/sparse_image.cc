#include "drivers/sparse_image.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <vector>

#include "sim/file_bytes.h"
#include "sim/invariant.h"
#include "sim/str.h"

namespace drivers {

SparseImage::SparseImage(std::uint64_t size_bytes) : size_(size_bytes) {
  SIM_ASSERT(size_bytes <= kMaxBytes, "image larger than 2^62 bytes");
}

SparseImage::SparseImage(const SparseImage& other) : size_(other.size_), allocated_sectors_(other.allocated_sectors_) {
  for (const auto& [index, page] : other.pages_) pages_.emplace_hint(pages_.end(), index, std::make_unique<Page>(*page));
}

SparseImage& SparseImage::operator=(const SparseImage& other) {
  if (this != &other) *this = SparseImage(other);
  return *this;
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> SparseImage::stored_ranges() const {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  for (const auto& [index, page] : pages_) {
    const std::uint64_t begin = index * kPage;
    const std::uint64_t end = std::min(begin + kPage, size_);
    if (!out.empty() && out.back().second == begin) {
      out.back().second = end;
    } else {
      out.emplace_back(begin, end);
    }
  }
  return out;
}

bool SparseImage::allocated(std::uint64_t sector) const {
  const auto it = pages_.find(sector / kSectorsPerPage);
  return it != pages_.end() && (it->second->allocated >> (sector % kSectorsPerPage) & 1) != 0;
}

std::uint64_t SparseImage::same_state_run(std::uint64_t sector, std::uint64_t max) const {
  SIM_ASSERT(max >= 1, "a run of at least one sector");
  const bool state = allocated(sector);
  std::uint64_t n = 0;
  while (n < max) {
    const std::uint64_t s = sector + n;
    const std::uint64_t page = s / kSectorsPerPage;
    const auto it = pages_.lower_bound(page);
    if (it == pages_.end() || it->first != page) {
      if (state) return n;  // an allocated run ends at a hole
      // Holes up to the next stored page (or to `max`).
      if (it == pages_.end()) return max;
      const std::uint64_t next = it->first * kSectorsPerPage;
      n = std::min(max, next - sector);
      continue;
    }
    for (std::uint64_t i = s % kSectorsPerPage; i < kSectorsPerPage && n < max; ++i, ++n) {
      if (((it->second->allocated >> i) & 1) != static_cast<unsigned>(state)) return n;
    }
  }
  return n;
}

template <typename Fn>
void SparseImage::for_each_piece(std::uint64_t offset, std::uint64_t bytes, Fn&& fn) const {
  const std::uint64_t end = offset + bytes;
  std::uint64_t pos = offset;
  for (auto it = pages_.lower_bound(offset / kPage); it != pages_.end() && it->first * kPage < end; ++it) {
    const std::uint64_t p_begin = it->first * kPage;
    const std::uint64_t from = std::max(offset, p_begin);
    const std::uint64_t to = std::min(end, p_begin + kPage);
    if (from > pos) fn(pos, from - pos, nullptr);
    fn(from, to - from, it->second->data.data() + (from - p_begin));  // its holes hold zeroes
    pos = to;
  }
  if (pos < end) fn(pos, end - pos, nullptr);
}

void SparseImage::read(std::uint64_t offset, std::uint64_t bytes, std::uint8_t* dst) const {
  if (bytes == 0) return;  // dst may be null then (an empty vector's data())
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

template <typename Fill>
void SparseImage::write_pieces(std::uint64_t offset, std::uint64_t bytes, Fill&& fill) {
  SIM_ASSERT(offset + bytes <= size_, "write past the end of the image");
  std::uint64_t done = 0;
  while (done < bytes) {
    const std::uint64_t pos = offset + done;
    const std::uint64_t in_page = pos % kPage;
    const std::uint64_t n = std::min(kPage - in_page, bytes - done);
    std::unique_ptr<Page>& page = pages_[pos / kPage];
    if (page == nullptr) page = std::make_unique<Page>();
    // A partly written sector is allocated whole (the rest of it reads as zeroes).
    const std::uint64_t first = in_page / kSector;
    const std::uint64_t last = (in_page + n - 1) / kSector;
    const auto bits = static_cast<std::uint8_t>(((2u << last) - 1) & ~((1u << first) - 1));
    allocated_sectors_ += static_cast<std::uint64_t>(std::popcount(static_cast<unsigned>(bits & ~page->allocated)));
    page->allocated |= bits;
    fill(done, page->data.data() + in_page, n);
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
    const std::uint64_t sector = pos / kSector;
    const std::uint64_t in_sector = pos % kSector;
    const std::uint64_t n = std::min(kSector - in_sector, end - pos);
    pos += n;
    const auto it = pages_.find(sector / kSectorsPerPage);
    if (it == pages_.end()) continue;  // a hole already
    Page& page = *it->second;
    const auto bit = static_cast<std::uint8_t>(1u << (sector % kSectorsPerPage));
    if ((page.allocated & bit) == 0) continue;  // its bytes are zero
    std::memset(page.data.data() + (sector % kSectorsPerPage) * kSector + in_sector, 0, n);
    if (n == kSector) {  // a whole sector becomes a hole
      page.allocated &= static_cast<std::uint8_t>(~bit);
      --allocated_sectors_;
      if (page.allocated == 0) pages_.erase(it);
    }
  }
}

absl::Status SparseImage::load(absl::Span<const std::uint8_t> content) {
  if (content.size() > size_) {
    return absl::InvalidArgumentError(sim::cat("image of ", content.size(), " bytes is larger than the node (", size_, " bytes)"));
  }
  // Zero sectors stay holes.
  for (std::uint64_t s = 0; s < content.size(); s += kSector) {
    const std::uint64_t n = std::min<std::uint64_t>(kSector, content.size() - s);
    const std::uint8_t* p = content.data() + s;
    if (std::any_of(p, p + n, [](std::uint8_t b) { return b != 0; })) write(s, n, p);
  }
  return absl::OkStatus();
}

absl::Status SparseImage::load_raw(const std::string& path) {
  auto content = sim::read_file_bytes(path);
  if (!content.ok()) return absl::NotFoundError(sim::cat(path, ": cannot open image file"));
  absl::Status s = load(*content);
  if (!s.ok()) return absl::InvalidArgumentError(sim::cat(path, ": ", s.message()));
  return s;
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
  static const Page kZero{};
  auto a = pages_.begin();
  auto b = other.pages_.begin();
  while (a != pages_.end() || b != other.pages_.end()) {
    if (b == other.pages_.end() || (a != pages_.end() && a->first < b->first)) {
      if (a->second->data != kZero.data) return false;
      ++a;
    } else if (a == pages_.end() || b->first < a->first) {
      if (b->second->data != kZero.data) return false;
      ++b;
    } else {
      if (a->second->data != b->second->data) return false;
      ++a;
      ++b;
    }
  }
  return true;
}

}  // namespace drivers
