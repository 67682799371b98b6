// Names users give things (scenarios, nodes, jobs, events, iothreads) and the
// text of commands end up in terminals, file names, JUnit, DOT and HTML: they
// must be visible text. Printable here: valid UTF-8 without control
// characters (C0, DEL, C1), without bidirectional overrides or isolates and
// without invisible format characters, which make one name look like another.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace scenarios {

inline constexpr std::size_t kMaxNameBytes = 128;

// Empty if `text` is printable, else what is wrong ("byte 3 is a control
// character (U+000A)").
std::string unprintable_reason(std::string_view text);

}  // namespace scenarios
