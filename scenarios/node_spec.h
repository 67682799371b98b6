// The nodes of a scenario: which driver, its options, and the edges (file,
// backing) that make the graph. Parsing checks each option against the driver;
// validation checks the graph as a whole (references, cycles, sizes).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <absl/status/status.h>
#include <toml++/toml.h>

#include "drivers/cow_format.h"
#include "drivers/fault_driver.h"
#include "drivers/mem_driver.h"
#include "drivers/null_driver.h"
#include "scenarios/image_store.h"

namespace scenarios {

class Reader;

// The largest node a `fill` may fill (its bytes are held as an image's).
inline constexpr std::uint64_t kMaxFillBytes = 64ULL << 20;

struct NodeSpec {
  enum class Driver : std::uint8_t { kMem, kNull, kRaw, kCow, kFault, kTop, kQuorum };
  std::string name;
  Driver driver = Driver::kMem;
  std::string file;     // child node names ("" : none)
  std::string backing;
  std::string data_file;  // cow: its data in this node (an external data file)
  std::vector<std::string> children;  // quorum: its children, in order (children.0, ...)
  bool unmap = false;  // BDRV_O_UNMAP
  bool no_flush = false;  // BDRV_O_NO_FLUSH (cache.no-flush)
  engine::DetectZeroes detect_zeroes = engine::DetectZeroes::kOff;
  std::string iothread;  // the AioContext the node runs in ("": the main loop)
  std::uint64_t size = 1 << 20;  // mem, null, cow (virtual size)
  // mem: the most the file may hold, above `size` when a truncate grows it
  // (the parser raises it to the largest truncate that lands here).
  std::uint64_t capacity = 0;
  drivers::MemConfig mem;
  std::string image;  // mem: initial content from a raw file, as the scenario names it
  // Its bytes, read when the scenario is parsed (or carried by a repro file):
  // a run never reads the file, so a changed file cannot change a run.
  ImageBytes image_bytes;
  // mem: `fill`, every byte of the initial content (instead of an image);
  // its bytes are image_bytes too, not carried by repro files (the text
  // makes them again).
  std::uint8_t fill = 0;
  // Whether the node starts with content of its own (an image or a fill).
  bool has_initial_content() const { return image_bytes != nullptr; }
  drivers::CowOptions cow;
  drivers::FaultConfig fault;
  drivers::NullConfig null;
  int line = 0;

  std::string_view driver_name() const;
  // A filter passes every request to a child at the same offsets: raw and
  // fault to their file, top to its backing, quorum to each of its children
  // (which all hold the image: the first stands for them).
  bool is_filter() const {
    return driver == Driver::kRaw || driver == Driver::kFault || driver == Driver::kTop || driver == Driver::kQuorum;
  }
  // The child requests go down to: a top's backing, a quorum's first child,
  // every other node's file ("" : none).
  const std::string& data_child() const {
    return driver == Driver::kTop ? backing : driver == Driver::kQuorum ? children.front() : file;
  }
  // Every child edge by its key: file, backing, data_file, then a quorum's
  // children (unset ones are "").
  std::vector<std::pair<std::string_view, const std::string*>> edges() const {
    std::vector<std::pair<std::string_view, const std::string*>> all = {
        {"file", &file}, {"backing", &backing}, {"data_file", &data_file}};
    for (const std::string& child : children) all.emplace_back("children", &child);
    return all;
  }
};

absl::Status parse_node(const Reader& r, const toml::table& t, NodeSpec& out);
// References resolve, the file/backing graph has no cycle, every format's file
// is large enough. `table_of(i)` gives node i's TOML table for error locations.
absl::Status validate_graph(const Reader& r, const std::vector<NodeSpec>& nodes,
                            const std::vector<const toml::table*>& tables);
// Node indices with every node after the nodes it depends on.
std::vector<std::size_t> children_first(const std::vector<NodeSpec>& nodes);
const NodeSpec* find_spec(const std::vector<NodeSpec>& nodes, std::string_view name);
// The first option in which two mem nodes differ as their users see them
// (size, limits, request flags, the driver's ways and cache; latency may
// differ), or "" when they behave alike.
std::string_view mem_behaviour_difference(const NodeSpec& a, const NodeSpec& b);

}  // namespace scenarios
