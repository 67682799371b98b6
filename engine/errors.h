// Engine functions return 0 or a negative errno, as QEMU's block layer does.
#pragma once

#include <cerrno>
#include <string>

namespace engine {

// "-EIO", "-ENOTSUP", ... for reports and traces.
std::string errno_name(int ret);

}  // namespace engine
