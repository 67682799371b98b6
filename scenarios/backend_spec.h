// `[[job]].backend = { ... }`: a job's BlockBackend-like root parent and its
// device's scripted drain callbacks (scenarios/block_backend.h).
#pragma once

#include <absl/status/status.h>
#include <toml++/toml.h>

#include "scenarios/block_backend.h"

namespace scenarios {

class Reader;
struct Scenario;

// At most this many actions in one drain callback, and this deep may device
// callbacks re-enter one another through the drains they start.
inline constexpr std::size_t kMaxCallbackActions = 64;
inline constexpr int kMaxCallbackDepth = 16;

// Reads the backend table `node` of a job (nodes already read into `s`).
absl::Status read_backend(const Reader& r, const toml::node& node, const Scenario& s, BackendOptions& out);
// Once every job and event is read: the graph changes device callbacks make
// (set_backing) are sound for the oracles, as an event's must be.
absl::Status check_callback_graph_changes(const Reader& r, const Scenario& s);

}  // namespace scenarios
