// cat(...): string concatenation for messages. (Debian's Abseil is built with its
// own string_view type, so absl::StrCat does not take std::string_view.)
#pragma once

#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>

namespace sim {
namespace detail {
inline void append(std::string& out, std::string_view s) { out.append(s); }
inline void append(std::string& out, const char* s) { out.append(s); }
inline void append(std::string& out, const std::string& s) { out.append(s); }
inline void append(std::string& out, char c) { out.push_back(c); }
inline void append(std::string& out, bool b) { out.append(b ? "true" : "false"); }
// Any other string-like type (absl::string_view among them).
template <typename S>
  requires(!std::same_as<S, std::string> && !std::same_as<S, std::string_view> && requires(const S& s) {
    { s.data() } -> std::convertible_to<const char*>;
    { s.size() } -> std::convertible_to<std::size_t>;
  })
void append(std::string& out, const S& s) {
  out.append(s.data(), s.size());
}
template <std::integral T>
  requires(!std::same_as<T, char> && !std::same_as<T, bool>)
void append(std::string& out, T value) {
  out.append(std::to_string(value));
}
}  // namespace detail

// "0x1f"-style hex with at least `digits` digits.
inline std::string hex(unsigned long long value, int digits = 2) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[value & 0xf]);
    value >>= 4;
  } while (value != 0 || static_cast<int>(out.size()) < digits);
  return "0x" + out;
}

template <typename... Args>
std::string cat(const Args&... args) {
  std::string out;
  (detail::append(out, args), ...);
  return out;
}

}  // namespace sim
