#include "scenarios/names.h"

#include <cstdint>

#include "sim/str.h"

namespace scenarios {
namespace {

std::string code_point(std::uint32_t cp) {
  std::string hex = sim::hex(cp, 4).substr(2);
  for (char& c : hex) c = static_cast<char>(c >= 'a' && c <= 'f' ? c - 'a' + 'A' : c);
  return "U+" + hex;
}

bool invisible_format(std::uint32_t cp) {
  return cp == 0x061C ||                     // Arabic letter mark
         (cp >= 0x200B && cp <= 0x200F) ||   // zero-width space/joiners, LRM, RLM
         (cp >= 0x2028 && cp <= 0x202E) ||   // line/paragraph separators, bidi embeddings and overrides
         (cp >= 0x2060 && cp <= 0x2069) ||   // word joiner, invisible operators, bidi isolates
         cp == 0xFEFF;                       // byte order mark
}

}  // namespace

std::string unprintable_reason(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char b = p[i];
    std::uint32_t cp = 0;
    std::size_t len = 0;
    if (b < 0x80) {
      cp = b;
      len = 1;
    } else if ((b & 0xE0) == 0xC0) {
      cp = b & 0x1F;
      len = 2;
    } else if ((b & 0xF0) == 0xE0) {
      cp = b & 0x0F;
      len = 3;
    } else if ((b & 0xF8) == 0xF0) {
      cp = b & 0x07;
      len = 4;
    } else {
      return sim::cat("byte ", i, " is not valid UTF-8");
    }
    if (i + len > n) return sim::cat("byte ", i, " starts a truncated UTF-8 sequence");
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return sim::cat("byte ", i, " starts an invalid UTF-8 sequence");
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static constexpr std::uint32_t kMinOfLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinOfLength[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return sim::cat("byte ", i, " starts an invalid UTF-8 sequence");
    }
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
      return sim::cat("byte ", i, " is a control character (", code_point(cp), ")");
    }
    if (invisible_format(cp)) {
      return sim::cat("byte ", i, " is an invisible or bidirectional formatting character (", code_point(cp), ")");
    }
    i += len;
  }
  return {};
}

}  // namespace scenarios
