#include "engine/iovec.h"

#include <algorithm>
#include <cstring>

#include "sim/invariant.h"

namespace engine {

void IoVector::add(absl::Span<std::uint8_t> buffer) {
  if (buffer.empty()) return;
  iov_.push_back(buffer);
  size_ += buffer.size();
}

void IoVector::concat(const IoVector& src, std::size_t offset, std::size_t bytes) {
  SIM_CHECK("iovec.concat_in_range", offset + bytes <= src.size(), "qemu_iovec_concat past the end of the source vector");
  for (const auto& part : src.iov_) {
    if (bytes == 0) break;
    if (offset >= part.size()) {
      offset -= part.size();
      continue;
    }
    std::size_t len = std::min(part.size() - offset, bytes);
    add(part.subspan(offset, len));
    offset = 0;
    bytes -= len;
  }
}

namespace {
template <typename Fn>
void for_range(absl::Span<const absl::Span<std::uint8_t>> iov, std::size_t offset, std::size_t bytes, Fn&& fn) {
  std::size_t done = 0;
  for (const auto& part : iov) {
    if (done == bytes) break;
    if (offset >= part.size()) {
      offset -= part.size();
      continue;
    }
    std::size_t len = std::min(part.size() - offset, bytes - done);
    fn(part.data() + offset, done, len);
    done += len;
    offset = 0;
  }
  SIM_CHECK("iovec.range_in_vector", done == bytes, "I/O vector range past its end");
}
}  // namespace

void IoVector::copy_from(std::size_t offset, const std::uint8_t* src, std::size_t bytes) {
  for_range(iov_, offset, bytes, [&](std::uint8_t* p, std::size_t at, std::size_t len) { std::memcpy(p, src + at, len); });
}

void IoVector::copy_to(std::size_t offset, std::uint8_t* dst, std::size_t bytes) const {
  for_range(iov_, offset, bytes, [&](std::uint8_t* p, std::size_t at, std::size_t len) { std::memcpy(dst + at, p, len); });
}

void IoVector::memset(std::size_t offset, std::uint8_t value, std::size_t bytes) {
  for_range(iov_, offset, bytes, [&](std::uint8_t* p, std::size_t, std::size_t len) { std::memset(p, value, len); });
}

bool IoVector::is_zero() const {
  for (const auto& part : iov_) {
    if (std::any_of(part.begin(), part.end(), [](std::uint8_t b) { return b != 0; })) return false;
  }
  return true;
}

std::size_t concat_collapsing(IoVector& dst, const IoVector& src, std::size_t parts_after, std::size_t max_parts,
                              std::vector<std::uint8_t>& bounce) {
  const std::size_t total = dst.count() + src.count() + parts_after;
  if (max_parts == 0 || total <= max_parts || src.count() < 2) {
    dst.concat(src, 0, src.size());
    return 0;
  }
  const std::size_t collapse_count = std::min(total - max_parts + 1, src.count());
  std::size_t collapse_bytes = 0;
  for (std::size_t i = 0; i < collapse_count; ++i) collapse_bytes += src.parts()[i].size();
  bounce.resize(collapse_bytes);
  src.copy_to(0, bounce.data(), collapse_bytes);
  dst.add(absl::MakeSpan(bounce));
  dst.concat(src, collapse_bytes, src.size() - collapse_bytes);
  return collapse_bytes;
}

}  // namespace engine
