#include "engine/errors.h"

namespace engine {

std::string errno_name(int ret) {
  if (ret >= 0) return std::to_string(ret);
  switch (-ret) {
    case EIO: return "-EIO";
    case ENOTSUP: return "-ENOTSUP";
    case ENOMEDIUM: return "-ENOMEDIUM";
    case EPERM: return "-EPERM";
    case EINVAL: return "-EINVAL";
    case ENOSPC: return "-ENOSPC";
    case ENOMEM: return "-ENOMEM";
    case EROFS: return "-EROFS";
    case EACCES: return "-EACCES";
    default: {
      std::string name = "-";
      name += std::to_string(-ret);
      return name;
    }
  }
}

}  // namespace engine
