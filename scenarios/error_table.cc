#include "scenarios/error_table.h"

#include <cerrno>

#include "sim/invariant.h"

namespace scenarios {

namespace {

constexpr ErrorRule kTable[] = {
    {"block_status", 0, ErrorSite::kStatusRefinement, ErrorFate::kIgnore,
     "bdrv_co_get_block_status asks the file below a format only whether data reads as zeroes, and keeps the "
     "format's answer when that query fails"},
    {"preadv", 0, ErrorSite::kQuorumNotLast, ErrorFate::kFallBack,
     "quorum's read_fifo_child reads the next child when one fails (the last child's error is the read's)"},
    {"allocation", 0, ErrorSite::kQuorumNotLast, ErrorFate::kFallBack,
     "a buffer a quorum child's read could not allocate fails that read, and read_fifo_child reads the next child "
     "(in a write's own child write it fails the write: the oracle takes either there)"},
    {"pwrite_zeroes", -ENOTSUP, ErrorSite::kAnywhere, ErrorFate::kFallBack,
     "bdrv_co_do_pwrite_zeroes writes a zeroed bounce buffer instead"},
    {"pdiscard", -ENOTSUP, ErrorSite::kAnywhere, ErrorFate::kIgnore,
     "bdrv_co_pdiscard: a discard is advisory, a driver that cannot discard a range has done nothing wrong"},
    {"", 0, ErrorSite::kAnywhere, ErrorFate::kPassUp,
     "every other error of a read, write, zero write, discard, flush, block-status query or allocation fails the "
     "caller's request with the same errno"},
};

bool matches(const ErrorRule& r, std::string_view op, int error, ErrorSite site) {
  return (r.driver_op.empty() || r.driver_op == op) && (r.error == 0 || r.error == error) &&
         (r.site == ErrorSite::kAnywhere || r.site == site);
}

}  // namespace

std::string_view error_fate_name(ErrorFate fate) {
  switch (fate) {
    case ErrorFate::kPassUp: return "pass up";
    case ErrorFate::kFallBack: return "fall back";
    case ErrorFate::kIgnore: return "ignore";
  }
  return "?";
}

std::span<const ErrorRule> error_table() { return kTable; }

const ErrorRule& error_rule_for(std::string_view driver_op, int error, ErrorSite site) {
  SIM_ASSERT(error < 0, "error_rule_for takes a negative errno");
  for (const ErrorRule& r : kTable) {
    if (matches(r, driver_op, error, site)) return r;
  }
  SIM_ASSERT(false, "the error table ends with a row matching everything");
  return kTable[std::size(kTable) - 1];
}

}  // namespace scenarios
