// A hunt's result as one JSON document (`blksim hunt --json FILE`), read
// back by `blksim merge` to put the shards of a hunt together.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "scenarios/hunt/hunt.h"

namespace scenarios::hunt {

// What a result file says about the hunt that made it, beside its result.
struct HuntHeader {
  std::uint64_t first_seed = 0;
  unsigned shard_k = 1, shard_n = 1;
  std::uint32_t run_seeds = 3;
  bool swarm = true;
  bool feedback = true;
  std::vector<std::string> mutants, fixes;  // by name
  bool operator==(const HuntHeader&) const = default;
};

std::string hunt_to_json(const HuntHeader& header, const HuntResult& result);

struct HuntFile {
  HuntHeader header;
  HuntResult result;
};
// `where` names the file in errors (InvalidArgument: not a hunt result file).
absl::StatusOr<HuntFile> hunt_from_json(const std::string& text, const std::string& where);

// Whether `text` looks like a hunt result file (its object says "kind": "hunt").
bool is_hunt_json(const std::string& text);

}  // namespace scenarios::hunt
