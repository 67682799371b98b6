#include <fstream>
#include <iterator>

#include "scenarios/conformance/sides.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"
#include "sim/file_bytes.h"
#include "sim/str.h"

namespace conformance {

absl::Status write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) return absl::InternalError(sim::cat("cannot write ", path));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::uint8_t>> read_bytes(const std::string& path) {
  auto bytes = sim::read_file_bytes(path);
  if (!bytes.ok()) return absl::InternalError(std::string(bytes.status().message()));
  return bytes;
}

std::string blkdebug_site_of(std::string_view id, std::string_view message) {
  // Only the fault node ("blkdebug") stands for QEMU's blkdebug.
  if (message.find("node blkdebug:") == std::string_view::npos) return "";
  if (id.starts_with("blkdebug.discard") || id == "driver.max_pdiscard") return "blkdebug_co_pdiscard";
  if (id.starts_with("blkdebug.zero") || id == "driver.max_pwrite_zeroes") return "blkdebug_co_pwrite_zeroes";
  if (id == "driver.max_transfer" || id == "driver.request_alignment") {
    return message.find("driver read") != std::string_view::npos ? "blkdebug_co_preadv" : "blkdebug_co_pwritev";
  }
  return "";
}

std::string scenario_text(const Case& c, const std::string& image_path) {
  std::string commands;
  for (const std::string& cmd : c.commands) commands += sim::cat(commands.empty() ? "" : ", ", "\"", cmd, "\"");
  // The file driver of a regular file has request_alignment 1 and zeroes or
  // punches exactly the range asked; so does this mem node. qemu-io opens its
  // image with discard=unmap, hence `unmap` on both nodes.
  return sim::cat("[scenario]\nname = \"conform-", c.seed, "-", c.index, "\"\nseeds = 1\nstrategy = \"fifo\"\n\n",
                  "[[node]]\nname = \"file\"\ndriver = \"mem\"\nsize = ", c.image_bytes,
                  "\nunmap = true\nrequest_alignment = 1\nlatency_ns = [1000, 1000]\nimage = \"", image_path, "\"\n\n",
                  "[[node]]\nname = \"blkdebug\"\ndriver = \"fault\"\nunmap = true\nfile = \"file\"\n",
                  format_limits(c.limits, LimitStyle::kToml), "\n",
                  "[[job]]\nname = \"qemu-io\"\nnode = \"blkdebug\"\nqueue_depth = 1\ncommands = [", commands, "]\n");
}

absl::StatusOr<SideResult> run_blksim(const Case& c, const std::string& work_dir,
                                      const std::vector<engine::Mutant>& mutants) {
  const std::string image = sim::cat(work_dir, "/case-", c.index, ".raw");
  if (absl::Status s = write_bytes(image, initial_image(c)); !s.ok()) return s;
  const std::string path = sim::cat(work_dir, "/case-", c.index, ".toml");
  const std::string text = scenario_text(c, image);
  std::ofstream(path) << text;
  absl::StatusOr<scenarios::Scenario> scenario = scenarios::parse_scenario(text, path);
  if (!scenario.ok()) return absl::InternalError(sim::cat("the generated scenario does not parse: ", scenario.status().message()));
  scenarios::RunOptions options;
  options.record_outcomes = true;
  options.export_dir = work_dir;
  options.mutants = mutants;
  scenarios::RunResult run = scenarios::run_scenario(*scenario, options);
  if (!run.export_error.empty()) return absl::InternalError(run.export_error);
  SideResult side;
  if (!run.verdict.ok()) {
    side.failure = sim::cat("blksim verdict: ", run.verdict.message, run.verdict.id.empty() ? "" : " [", run.verdict.id,
                            run.verdict.id.empty() ? "" : "]");
    side.abort_site = blkdebug_site_of(run.verdict.id, run.verdict.message);
  }
  for (const scenarios::CommandOutcome& o : run.outcomes) side.outcomes.push_back(Outcome{o.ret, o.data});
  absl::StatusOr<std::vector<std::uint8_t>> final_image = read_bytes(sim::cat(work_dir, "/file.visible.raw"));
  if (!final_image.ok()) return final_image.status();
  side.image = std::move(*final_image);
  return side;
}

}  // namespace conformance
