// What QEMU's permission system refuses among a scenario's users: two
// devices on one chain that write where the other does not share writing
// (share-rw=off, every device's default), or anyone writing a format's file.
#pragma once

#include "absl/status/status.h"
#include "scenarios/scenario.h"
#include "scenarios/toml_reader.h"

namespace scenarios {

// A job with a backend is a device (its BlockBackend) on its node, and
// shares WRITE only with `backend = { share_rw = true }` (share-rw=on); a job
// without one is a user like qemu-io's, which shares everything. Jobs on one
// node are one user's queues and never conflict. A job that writes takes
// WRITE. Permissions pass down every child edge as the reference's drivers
// pass them (bdrv_filter_default_perms, bdrv_format_default_perms): raw,
// fault, top and quorum pass their parents' through; cow takes WRITE on its
// file and data file whatever its parents do and never shares WRITE there
// ("We can never allow other users to ... write to it"), and its backing
// conflicts with nothing. An error names both jobs, the node where they meet
// and what would make QEMU accept them, if anything. Graph changes by events
// are not followed: the check is of the start.
absl::Status check_job_permissions(const Reader& r, const Scenario& s);

}  // namespace scenarios
