// The two sides of a conformance case: blksim in process, qemu-io as a child
// process. Each gives one outcome per command and the final image.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/mutations.h"
#include "scenarios/conformance/case.h"

namespace conformance {

struct Outcome {
  int ret = 0;                     // 0 or a negative errno
  std::vector<std::uint8_t> data;  // what a read returned
};

struct SideResult {
  std::vector<Outcome> outcomes;  // one per command, in order, up to an abort
  std::vector<std::uint8_t> image;
  std::string failure;  // blksim: a verdict other than pass; qemu-io: its assertion message
  // A blkdebug assertion (qemu-io aborts) or blksim's check of the same
  // contract (an invariant verdict): the blkdebug function whose assertion
  // fired, e.g. "blkdebug_co_pdiscard". Empty if the side ran to the end.
  std::string abort_site;
};

// The blkdebug function whose assertion blksim's invariant `id` mirrors (the
// fault driver checks what blkdebug asserts), or "" if none does.
std::string blkdebug_site_of(std::string_view id, std::string_view message);

// A case's image files, written before and read after each side runs.
absl::Status write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes);
absl::StatusOr<std::vector<std::uint8_t>> read_bytes(const std::string& path);

// The blksim scenario a case becomes (the image at `image_path`).
std::string scenario_text(const Case& c, const std::string& image_path);

// Runs the case through the engine. Errors are blksim's own (exit 3).
absl::StatusOr<SideResult> run_blksim(const Case& c, const std::string& work_dir,
                                      const std::vector<engine::Mutant>& mutants = {});
// Runs the case through `qemu_io` (reads as `read -v`) and parses its output.
// Errors: qemu-io missing, killed, or printing what this parser does not know.
absl::StatusOr<SideResult> run_qemu_io(const Case& c, const std::string& qemu_io, const std::string& work_dir);

}  // namespace conformance
