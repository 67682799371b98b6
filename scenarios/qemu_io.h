// qemu-io command syntax for scenario jobs:
//   read  [-P pattern] [-q] OFFSET LENGTH      aio_read  [-P pattern] [-q] OFFSET LENGTH
//   write [-P pattern | -z [-u] | -c] [-f] [-q] OFFSET LENGTH   (also aio_write)
//   discard [-q] OFFSET LENGTH                 aio_discard [-q] OFFSET LENGTH
//   flush                                      aio_flush
//   sleep MS   (the job waits MS milliseconds of virtual time, as qemu-io's sleep)
//   break EVENT TAG   remove_break TAG   resume TAG   wait_break TAG   (blkdebug's,
//   on the fault node at or below the job's node)
// Numbers take qemu-io's forms: decimal, 0x hex, and k/M/G/T/P/E suffixes
// (powers of 1024). `read -P` checks the pattern; `aio_flush` waits for the job's
// outstanding aio requests, as in qemu-io. Any command may end in
// "=> OUTCOME", the result it must have (qemu-iotests' expected output):
// "=> ok" or "=> EIO" (any errno of `blksim list errnos`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <absl/status/statusor.h>

namespace scenarios {

struct Command {
  // The breakpoint commands come last: `op >= kBreak` is "needs a fault node".
  enum class Op : std::uint8_t {
    kRead, kWrite, kDiscard, kFlush, kAioFlush, kSleep, kBreak, kRemoveBreak, kResume, kWaitBreak
  };
  Op op = Op::kRead;
  bool async = false;  // aio_read / aio_write
  std::uint64_t offset = 0;
  std::uint64_t bytes = 0;
  std::optional<std::uint8_t> pattern;  // -P (write: fill; read: verify)
  bool fua = false;                     // -f
  bool zeroes = false;                  // write -z: a zero write
  bool unmap = false;                   // write -z -u: may unmap
  bool compressed = false;              // write -c
  std::string event;                    // break: the blkdebug event
  std::string tag;                      // break, remove_break, resume, wait_break
  std::optional<int> expect;            // "=> ok" (0) or "=> EIO" (-EIO): the result it must have
  std::uint64_t sleep_ms = 0;           // sleep
  std::string text;                     // as written, for reports
  int line = 0;
};

// Largest single request a command may ask for.
inline constexpr std::uint64_t kMaxCommandBytes = 1ULL << 30;
// Longest sleep: a day of virtual time, far inside a run's time budget's range.
inline constexpr std::uint64_t kMaxSleepMs = 24ULL * 3600 * 1000;
// Largest offset: the engine's offsets are int64_t, as QEMU's.
inline constexpr std::uint64_t kMaxCommandOffset = (1ULL << 63) - 1;

absl::StatusOr<std::uint64_t> parse_qemu_io_number(std::string_view text);
// Errors say what was expected; the caller adds file and line.
absl::StatusOr<Command> parse_command(std::string_view text);
// The command in qemu-io syntax; parse_command(format_command(c)) gives c back.
std::string format_command(const Command& c);

}  // namespace scenarios
