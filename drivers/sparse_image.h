// SparseImage: the bytes of a disk, stored only where written. Unwritten
// sectors (512 bytes) are holes that read as zeroes, so images of up to 2^62
// bytes cost memory only for what was written. Storage is by 4 KiB page with a
// mask of the page's allocated sectors (one lookup per page, not per sector);
// the bytes of a page's holes are kept zero. Iteration is in page order (an
// ordered map), never by address.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <absl/container/btree_map.h>
#include <absl/status/status.h>
#include <absl/types/span.h>

#include "engine/iovec.h"

namespace drivers {

class SparseImage {
 public:
  static constexpr std::uint64_t kSector = 512;
  static constexpr std::uint64_t kMaxBytes = 1ULL << 62;

  explicit SparseImage(std::uint64_t size_bytes);
  // Copies are deep (a crash image is a copy of the visible one).
  SparseImage(const SparseImage& other);
  SparseImage& operator=(const SparseImage& other);
  SparseImage(SparseImage&&) noexcept = default;
  SparseImage& operator=(SparseImage&&) noexcept = default;

  std::uint64_t size() const { return size_; }
  // Reads [offset, offset + bytes) into dst (holes and bytes past the end read as zero).
  void read(std::uint64_t offset, std::uint64_t bytes, std::uint8_t* dst) const;
  void read(std::uint64_t offset, std::uint64_t bytes, engine::IoVector& qiov, std::size_t qiov_offset = 0) const;
  void write(std::uint64_t offset, std::uint64_t bytes, const std::uint8_t* src);
  void write(std::uint64_t offset, std::uint64_t bytes, const engine::IoVector& qiov, std::size_t qiov_offset = 0);
  // Zeroes the range: whole sectors become holes, partial ones are zero-filled.
  void zero(std::uint64_t offset, std::uint64_t bytes);
  bool allocated(std::uint64_t sector) const;
  // How many sectors from `sector` on (at least 1, at most `max`) share its
  // allocation state: one lookup per stored page, holes skipped at once (a
  // block-status query over gigabytes of a sparse image).
  std::uint64_t same_state_run(std::uint64_t sector, std::uint64_t max) const;
  // The byte ranges of the pages that hold anything, merged, in order: all a
  // check of a huge image needs to read besides what was written.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> stored_ranges() const;
  std::uint64_t allocated_sectors() const { return allocated_sectors_; }

  // Initial content from offset 0 (zero sectors stay holes); at most size() bytes.
  absl::Status load(absl::Span<const std::uint8_t> content);
  // Raw image files: the whole image, holes as zeroes.
  absl::Status load_raw(const std::string& path);
  absl::Status save_raw(const std::string& path) const;

  bool operator==(const SparseImage& other) const;

 private:
  static constexpr std::uint64_t kPage = 4096;
  static constexpr std::uint64_t kSectorsPerPage = kPage / kSector;
  struct Page {
    std::uint8_t allocated = 0;  // bit i: sector i of the page holds data
    std::array<std::uint8_t, kPage> data{};
  };
  static_assert(kSectorsPerPage <= 8, "a page's sector mask is one byte");

  // Calls fn(image offset, length, data or nullptr for unstored pages) for each
  // piece of [offset, offset + bytes), in order.
  template <typename Fn>
  void for_each_piece(std::uint64_t offset, std::uint64_t bytes, Fn&& fn) const;
  // Calls fill(bytes done so far, page memory, length) for each page piece of
  // a write, allocating pages and marking their sectors allocated.
  template <typename Fill>
  void write_pieces(std::uint64_t offset, std::uint64_t bytes, Fill&& fill);

  std::uint64_t size_;
  std::uint64_t allocated_sectors_ = 0;
  // Pages by index, held by pointer (a tree of 4 KiB values would move them
  // on every node split).
  absl::btree_map<std::uint64_t, std::unique_ptr<Page>> pages_;
};

}  // namespace drivers
