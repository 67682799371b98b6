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

}  // namespace engine
