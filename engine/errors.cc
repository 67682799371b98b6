#include "engine/errors.h"

namespace engine {
namespace {

constexpr ErrnoInfo kErrnos[] = {{"EIO", EIO},       {"ENOTSUP", ENOTSUP}, {"ENOSPC", ENOSPC}, {"ENOMEDIUM", ENOMEDIUM},
                                 {"EPERM", EPERM},   {"EINVAL", EINVAL},   {"EACCES", EACCES}, {"EROFS", EROFS},
                                 {"ENOMEM", ENOMEM}, {"EAGAIN", EAGAIN}};

}  // namespace

std::span<const ErrnoInfo> all_errnos() { return kErrnos; }

std::optional<int> errno_from_name(std::string_view name) {
  if (name.starts_with("-")) name.remove_prefix(1);
  for (const ErrnoInfo& e : kErrnos) {
    if (e.name == name) return e.value;
  }
  return std::nullopt;
}

std::string errno_names() {
  std::string out;
  for (const ErrnoInfo& e : kErrnos) {
    if (!out.empty()) out += ", ";
    out += e.name;
  }
  return out;
}

std::string errno_name(int ret) {
  if (ret >= 0) return std::to_string(ret);
  for (const ErrnoInfo& e : kErrnos) {
    if (e.value == -ret) return "-" + std::string(e.name);
  }
  return "-" + std::to_string(-ret);
}

}  // namespace engine
