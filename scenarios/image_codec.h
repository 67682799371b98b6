// What a repro file stores of an image: its bytes compressed (zlib) and
// written as base64 text, and a digest to tell a changed image from the one
// the run used.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

namespace scenarios {

// Largest image a repro file carries, decompressed (a checked node's bound).
inline constexpr std::uint64_t kMaxReproImageBytes = 256ULL << 20;

// "fnv1a64:0123456789abcdef": FNV-1a over the bytes, for change detection
// (not for security).
std::string content_digest(std::span<const std::uint8_t> bytes);
std::string content_digest(std::string_view text);

std::string encode_image(std::span<const std::uint8_t> bytes);
// `bytes`: the decompressed size recorded beside the text.
absl::StatusOr<std::vector<std::uint8_t>> decode_image(std::string_view text, std::uint64_t bytes);

}  // namespace scenarios
