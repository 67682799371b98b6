// The errors oracle's table: what the reference does with an error that a
// driver operation returns. Each row names the driver operation (as traced:
// preadv, pwritev, pwrite_zeroes, pdiscard, flush_to_disk, block_status, ...),
// the errno (0: any), where the call was made, and the fate the reference gives
// it. The first matching row wins; the last row passes everything up.
//
// This is the oracle's own reading of block/io.c at 9cdcfd9f7a, not the
// engine's code: a port that absorbs an error the table passes up (or the
// reverse) is judged wrong.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace scenarios {

enum class ErrorFate : std::uint8_t {
  kPassUp,    // the caller's request fails with this errno
  kFallBack,  // the reference does the work another way (its errors then count)
  kIgnore,    // the reference carries on as if the call had succeeded
};
std::string_view error_fate_name(ErrorFate fate);

// Where the failed call was made, as the oracle's model of the graph sees it.
enum class ErrorSite : std::uint8_t {
  kAnywhere,
  // A block-status query of the file below a format, which
  // bdrv_co_get_block_status makes only to refine the format's answer.
  kStatusRefinement,
  // Below a quorum's child other than its last: a failed read there makes
  // quorum's fifo read try the next child.
  kQuorumNotLast,
};

struct ErrorRule {
  std::string_view driver_op;  // "" matches every operation
  int error;                   // negative errno; 0 matches every errno
  ErrorSite site;              // kAnywhere matches every site
  ErrorFate fate;
  std::string_view why;
};

std::span<const ErrorRule> error_table();
const ErrorRule& error_rule_for(std::string_view driver_op, int error, ErrorSite site);

}  // namespace scenarios
