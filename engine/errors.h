// Engine functions return 0 or a negative errno, as QEMU's block layer does.
#pragma once

#include <cerrno>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace engine {

// The errnos blksim names: what fault rules inject and expectations state.
struct ErrnoInfo {
  std::string_view name;  // "EIO"
  int value;              // positive
};
std::span<const ErrnoInfo> all_errnos();
// "EIO" or "-EIO" -> EIO (positive); nullopt for a name not in the catalogue.
std::optional<int> errno_from_name(std::string_view name);
// "EIO, ENOTSUP, ...": the catalogue for error messages.
std::string errno_names();

// "-EIO", "-ENOTSUP", ... for reports and traces.
std::string errno_name(int ret);

}  // namespace engine
