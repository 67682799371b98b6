// IoVector: a scatter/gather list of caller-owned buffers (QEMU's QEMUIOVector).
// It never owns memory; the engine pads requests by adding bounce buffers to a
// local vector around the caller's.
#pragma once

#include <cstddef>
#include <cstdint>

#include <vector>

#include <absl/container/inlined_vector.h>
#include <absl/types/span.h>

namespace engine {

class IoVector {
 public:
  IoVector() = default;
  explicit IoVector(absl::Span<std::uint8_t> buffer) { add(buffer); }

  // qemu_iovec_add
  void add(absl::Span<std::uint8_t> buffer);
  // qemu_iovec_concat: append `bytes` of `src` starting at `offset`.
  void concat(const IoVector& src, std::size_t offset, std::size_t bytes);
  std::size_t size() const { return size_; }
  std::size_t count() const { return iov_.size(); }
  absl::Span<const absl::Span<std::uint8_t>> parts() const { return iov_; }

  // qemu_iovec_from_buf / qemu_iovec_to_buf / qemu_iovec_memset.
  void copy_from(std::size_t offset, const std::uint8_t* src, std::size_t bytes);
  void copy_to(std::size_t offset, std::uint8_t* dst, std::size_t bytes) const;
  void memset(std::size_t offset, std::uint8_t value, std::size_t bytes);
  // qemu_iovec_is_zero
  bool is_zero() const;

 private:
  // One part inline, as QEMU's local_iov: a plain request's vector lives in
  // coroutine frames that stay allocated while it is in flight, so it is kept
  // small; padded and fragmented vectors (three parts and more) allocate.
  absl::InlinedVector<absl::Span<std::uint8_t>, 1> iov_;
  std::size_t size_ = 0;
};

// Appends all of `src` to `dst` such that `dst`, with `parts_after` more parts
// added later, has at most `max_parts` parts (0: no limit): when it would have
// more, the leading parts of `src` are collapsed into one bounce buffer, filled
// from `src` (QEMU's later fix for padded vectors past IOV_MAX, 18743311b8).
// Returns how many leading bytes of `src` `bounce` stands for (0: none); a
// read copies them back into `src` when it completes. A vector that cannot be
// brought within the limit (max_parts below the parts around `src` plus one)
// is collapsed as far as it goes.
std::size_t concat_collapsing(IoVector& dst, const IoVector& src, std::size_t parts_after, std::size_t max_parts,
                              std::vector<std::uint8_t>& bounce);

}  // namespace engine
