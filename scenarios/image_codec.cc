#include "scenarios/image_codec.h"

#include <zlib.h>

#include "sim/str.h"

namespace scenarios {
namespace {

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(std::span<const std::uint8_t> in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const std::uint32_t n = (std::uint32_t{in[i]} << 16) | (i + 1 < in.size() ? std::uint32_t{in[i + 1]} << 8 : 0) |
                            (i + 2 < in.size() ? std::uint32_t{in[i + 2]} : 0);
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += i + 1 < in.size() ? kBase64[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kBase64[n & 63] : '=';
  }
  return out;
}

absl::StatusOr<std::vector<std::uint8_t>> unbase64(std::string_view in) {
  if (in.size() % 4 != 0) return absl::InvalidArgumentError("base64 text whose length is not a multiple of 4");
  std::vector<std::uint8_t> out;
  out.reserve(in.size() / 4 * 3);
  const auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    const int pad = last ? (in[i + 3] == '=' ? (in[i + 2] == '=' ? 2 : 1) : 0) : 0;
    std::uint32_t n = 0;
    for (int k = 0; k < 4; ++k) {
      const int v = k >= 4 - pad ? 0 : value(in[i + k]);
      if (v < 0) return absl::InvalidArgumentError(sim::cat("a character outside base64 at ", i + k));
      n = (n << 6) | static_cast<std::uint32_t>(v);
    }
    out.push_back(static_cast<std::uint8_t>(n >> 16));
    if (pad < 2) out.push_back(static_cast<std::uint8_t>(n >> 8));
    if (pad < 1) out.push_back(static_cast<std::uint8_t>(n));
  }
  return out;
}

}  // namespace

std::string content_digest(std::span<const std::uint8_t> bytes) {
  std::uint64_t h = 14695981039346656037ULL;
  for (std::uint8_t b : bytes) {
    h ^= b;
    h *= 1099511628211ULL;
  }
  std::string hex = sim::hex(h, 16).substr(2);
  return "fnv1a64:" + hex;
}

std::string content_digest(std::string_view text) {
  return content_digest(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::string encode_image(std::span<const std::uint8_t> bytes) {
  uLongf size = compressBound(static_cast<uLong>(bytes.size()));
  std::vector<std::uint8_t> packed(size);
  const int rc = compress2(packed.data(), &size, bytes.data(), static_cast<uLong>(bytes.size()), Z_BEST_COMPRESSION);
  // zlib fails only for lack of memory or a too small buffer (compressBound rules that out).
  if (rc != Z_OK) throw std::bad_alloc();
  packed.resize(size);
  return base64(packed);
}

absl::StatusOr<std::vector<std::uint8_t>> decode_image(std::string_view text, std::uint64_t bytes) {
  if (bytes > kMaxReproImageBytes) {
    return absl::InvalidArgumentError(sim::cat("an image of ", bytes, " bytes (at most ", kMaxReproImageBytes, ")"));
  }
  auto packed = unbase64(text);
  if (!packed.ok()) return packed.status();
  std::vector<std::uint8_t> out(bytes);
  uLongf size = static_cast<uLongf>(bytes);
  const int rc = uncompress(out.data(), &size, packed->data(), static_cast<uLong>(packed->size()));
  if (rc != Z_OK || size != bytes) {
    return absl::InvalidArgumentError(sim::cat("compressed image data that does not decompress to ", bytes, " bytes"));
  }
  return out;
}

}  // namespace scenarios
