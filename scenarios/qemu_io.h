// qemu-io command syntax for scenario jobs:
//   read  [-P pattern [-s OFF] [-l LEN]] [-b] [-v] [-q] [-C] [-F FLAGS] OFFSET LENGTH  (aio_read: no -b, -s, -l)
//   readv [-P pattern] [-q] [-F FLAGS] OFFSET LENGTH [LENGTH...]   (also aio_readv)
//   write [-P pattern | -z [-u] | -c] [-f] [-b] [-q] [-C] [-F FLAGS] OFFSET LENGTH   (aio_write: no -b)
//   writev [-P pattern] [-f] [-q] [-F FLAGS] OFFSET LENGTH [LENGTH...]   (also aio_writev)
//   discard [-q] OFFSET LENGTH                 aio_discard [-q] OFFSET LENGTH
//   alloc OFFSET [COUNT]   map   (allocation queries: bdrv_is_allocated of the
//   job's node over [OFFSET, OFFSET + COUNT), COUNT 512 by default, in sectors;
//   bdrv_is_allocated_above the whole chain over the whole node)
//   flush                                      aio_flush
//   ioctl REQUEST      aio_ioctl REQUEST   (blk_co_ioctl / blk_aio_ioctl: the node's
//   driver chain passes it down, raw to its file, to a mem node with `ioctl`)
//   aio_cancel [-a] [N]   (bdrv_aio_cancel of the job's Nth latest aio command, 1
//   by default; -a: bdrv_aio_cancel_async. Nothing if it already completed.)
//   make_zero [-u]     (bdrv_make_zero of the whole node; -u: BDRV_REQ_MAY_UNMAP)
//   pwrite_sync [-P pattern] OFFSET LENGTH   (bdrv_pwrite_sync: a write, then a flush)
//   The last two are sync wrappers: jobs with api = "sync" or "sync-in-coroutine".
//   sleep MS   (the job waits MS milliseconds of virtual time, as qemu-io's sleep)
//   break EVENT TAG   remove_break TAG   resume TAG   wait_break TAG   (blkdebug's,
//   on the fault node at or below the job's node)
// readv/writev split the request over one buffer per LENGTH, as qemu-io's.
// Options combine as getopt's do (-zu, -P0x11). -b reads or writes the VM state
// (bdrv_load_vmstate / bdrv_save_vmstate); -q and -C change only what qemu-io
// prints; write -n (BDRV_REQ_NO_FALLBACK) is refused: it came after the reference.
// -F is blksim's own: engine request flags qemu-io cannot spell, comma-separated
// (`blksim list request-flags`): reads take copy_on_read and no_serialising,
// writes any flag of the reference's mask.
// Numbers take qemu-io's forms: decimal, 0x hex, and k/M/G/T/P/E suffixes
// (powers of 1024). `read -P` checks the pattern; `aio_flush` waits for the job's
// outstanding aio requests, as in qemu-io. Any command may end in
// "=> OUTCOME", the result it must have (qemu-iotests' expected output):
// "=> ok" or "=> EIO" (any errno of `blksim list errnos`).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <vector>

#include <absl/status/statusor.h>

#include "engine/request_flags.h"

namespace scenarios {

struct Command {
  // The request commands come first (`op <= kFlush`); the breakpoint commands
  // come last: `op >= kBreak` is "needs a fault node".
  enum class Op : std::uint8_t {
    kRead, kWrite, kDiscard, kAlloc, kMap, kFlush, kAioFlush, kIoctl, kAioCancel, kMakeZero, kTruncate, kSleep, kBreak,
    kRemoveBreak, kResume, kWaitBreak
  };
  Op op = Op::kRead;
  bool async = false;  // aio_read / aio_write
  std::uint64_t offset = 0;  // truncate: the new length
  std::uint64_t bytes = 0;
  std::optional<std::uint8_t> pattern;  // -P (write: fill; read: verify)
  // write -s FILE: the buffer holds the file's bytes, repeated to the length
  // (qemu-io's pattern file). The parser of the scenario reads the file (or
  // takes it from a repro file), as it does images.
  std::string source_file;
  std::shared_ptr<const std::vector<std::uint8_t>> source_bytes;
  bool fua = false;                     // -f
  bool zeroes = false;                  // write -z: a zero write
  bool unmap = false;                   // write -z -u: may unmap
  bool compressed = false;              // write -c
  std::vector<std::uint64_t> parts;     // readv/writev: one buffer per length (empty: one buffer)
  bool vmstate = false;                 // -b: the VM state rather than the disk
  bool dump = false;                    // read -v: show the data read (blksim run prints it)
  std::uint64_t verify_offset = 0;      // read -P -s: where in the read the pattern starts
  std::optional<std::uint64_t> verify_bytes;  // read -P -l: how much of it is checked (all)
  unsigned request_flags = 0;           // -F: engine request flags beyond qemu-io's options
  std::string event;                    // break: the blkdebug event
  std::string tag;                      // break, remove_break, resume, wait_break
  std::optional<int> expect;            // "=> ok" (0) or "=> EIO" (-EIO): the result it must have
  std::uint64_t sleep_ms = 0;           // sleep
  std::uint64_t ioctl_request = 0;      // ioctl, aio_ioctl
  bool cancel_async = false;            // aio_cancel -a
  std::uint32_t cancel_back = 1;        // aio_cancel N: the Nth latest aio command
  bool write_sync = false;              // pwrite_sync: bdrv_pwrite_sync
  std::string text;                     // as written, for reports
  int line = 0;

  bool vectored() const { return !parts.empty(); }
  // Whether the write stores zeroes whatever its buffer holds (-z, or -F zero_write).
  bool writes_zeroes() const {
    return zeroes || op == Op::kMakeZero || (request_flags & engine::BDRV_REQ_ZERO_WRITE) != 0;
  }
  // The engine request flags the command passes (qemu-io's options and -F).
  unsigned engine_flags() const;
};

// One request flag of the reference, as -F spells it.
struct RequestFlagName {
  std::string_view name;
  unsigned flag;
  bool on_reads;  // a read may pass it (the read path asserts the others away)
};
const std::vector<RequestFlagName>& request_flag_names();

// Largest single request a command may ask for.
inline constexpr std::uint64_t kMaxCommandBytes = 1ULL << 30;
// Longest sleep: a day of virtual time, far inside a run's time budget's range.
inline constexpr std::uint64_t kMaxSleepMs = 24ULL * 3600 * 1000;
// ioctl numbers: unsigned long on the 32-bit hosts QEMU supports too.
inline constexpr std::uint64_t kMaxIoctlRequest = 0xffffffffULL;
// aio_cancel reaches at most this far back.
inline constexpr std::uint64_t kMaxCancelBack = 1024;
// Largest offset: the engine's offsets are int64_t, as QEMU's.
inline constexpr std::uint64_t kMaxCommandOffset = (1ULL << 63) - 1;
// Largest length `truncate` may ask for: what a mem node can hold.
inline constexpr std::uint64_t kMaxTruncateBytes = 1ULL << 62;
// Most buffers in one readv/writev: above IOV_MAX (1024), every protocol node's
// default max_iov. A scenario also keeps within its node's max_iov (scenario.cc).
inline constexpr std::size_t kMaxCommandParts = 4096;

absl::StatusOr<std::uint64_t> parse_qemu_io_number(std::string_view text);
// Errors say what was expected; the caller adds file and line.
absl::StatusOr<Command> parse_command(std::string_view text);
// The command in qemu-io syntax; parse_command(format_command(c)) gives c back.
std::string format_command(const Command& c);

}  // namespace scenarios
