// mem: a memory-backed protocol driver over sparse media with a volatile write
// cache (see media.h): writes complete into the cache, flushes make them
// durable, crash() drops what was not. Operations take a seeded random latency
// of virtual time and move data when they complete, so concurrent operations
// really race. Its interface is configurable so that every dispatch style and
// every optional operation of the engine can be exercised: byte, sector or
// callback I/O; write-zeroes and discard behaviour; how it flushes; every limit
// (applied through refresh_limits, as blkdebug does).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/block_driver.h"
#include "drivers/driver_contract.h"
#include "drivers/media.h"
#include "engine/block_driver_state.h"
#include "sim/coroutine.h"
#include "sim/rng.h"
#include "sim/world.h"

namespace drivers {

struct LatencyRange {
  std::uint64_t min_ns = 0;
  std::uint64_t max_ns = 0;
};

struct MemConfig {
  enum class Style : std::uint8_t { kBytes, kSectors, kSectorsWithFlags, kCallbacks };
  enum class Flush : std::uint8_t { kToDisk, kToOs, kWhole, kCallback, kNone };
  Style style = Style::kBytes;
  Flush flush = Flush::kToDisk;
  bool write_zeroes = true;    // co_pwrite_zeroes
  bool zeroes_enotsup = false;  // ...which answers -ENOTSUP (the engine falls back)
  bool discard = true;         // co_pdiscard (aio_pdiscard in callback style)
  bool discard_advisory = false;  // ...which keeps the data (else it zeroes exactly the range)
  bool write_cache = true;     // false: every write is durable on completion
  std::int32_t cluster_size = 0;  // reported by get_info (0: no get_info)
  bool block_status = true;  // co_get_block_status (holes read as zeroes)
  bool fua = false;          // FUA in supported_write_flags and supported_zero_flags
  bool compressed = false;   // co_pwritev_compressed
  bool vmstate = false;      // save_vmstate / load_vmstate (a separate area)
  enum class Ioctl : std::uint8_t { kNone, kCoroutine, kCallback } ioctl = Ioctl::kNone;
  bool plug = false;            // io_plug / io_unplug (counted)
  bool drain_callback = false;  // co_drain (counted; sleeps drain_sleep_ns first)
  // O_DIRECT, as file-posix does it (needs_alignment): a vector that
  // bdrv_qiov_is_aligned refuses is copied through one aligned bounce buffer
  // (qemu_try_blockalign: -ENOMEM when that fails); an aligned one goes to the
  // device as it is, which takes only buffers aligned to min_mem_alignment.
  bool direct = false;
  std::uint64_t drain_sleep_ns = 0;
  int flush_error = 0;          // a negative errno flushes return (nothing becomes durable)
  std::uint32_t flush_error_count = 0;  // only the first N flushes fail (0: every flush)
  // request_alignment 0 keeps the engine's default for the style (1 or 512).
  engine::BlockLimits limits{.request_alignment = 0};
  LatencyRange latency{1000, 50000};
};

class MemDriver final : public engine::BlockDriver {
 public:
  // Bounds on what a scenario may ask for.
  static constexpr std::uint64_t kMaxSizeBytes = SparseImage::kMaxBytes;
  static constexpr std::uint64_t kMaxLatencyNs = 10'000'000'000ULL;

  MemDriver(std::uint64_t size_bytes, MemConfig config, sim::Rng& latency_rng);
  // The older, simple form: byte interface, default limits.
  MemDriver(std::uint64_t size_bytes, LatencyRange latency, sim::Rng& latency_rng);

  std::string_view format_name() const override { return "mem"; }
  std::string_view protocol_name() const override { return "mem"; }
  std::uint32_t ops() const override;
  std::int64_t getlength(const engine::BlockDriverState& bs) const override;
  int truncate(engine::BlockDriverState& bs, std::int64_t offset) override;
  // The file's length (at most its capacity, the size it was made with):
  // truncate sets it, writes past it grow it.
  void set_length(std::uint64_t length);
  std::uint64_t length() const { return length_; }
  std::uint64_t truncates() const { return truncates_; }

  sim::Task<int> co_preadv(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                           engine::IoVector& qiov, unsigned flags) override;
  sim::Task<int> co_pwritev(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                            engine::IoVector& qiov, unsigned flags) override;
  sim::Task<int> co_readv(engine::BlockDriverState& bs, std::int64_t sector_num, int nb_sectors,
                          engine::IoVector& qiov) override;
  sim::Task<int> co_writev(engine::BlockDriverState& bs, std::int64_t sector_num, int nb_sectors,
                           engine::IoVector& qiov) override;
  sim::Task<int> co_writev_flags(engine::BlockDriverState& bs, std::int64_t sector_num, int nb_sectors,
                                 engine::IoVector& qiov, unsigned flags) override;
  engine::BlockAIOCB* aio_readv(engine::BlockDriverState& bs, std::int64_t sector_num, engine::IoVector& qiov,
                                int nb_sectors, engine::BlockCompletion done) override;
  engine::BlockAIOCB* aio_writev(engine::BlockDriverState& bs, std::int64_t sector_num, engine::IoVector& qiov,
                                 int nb_sectors, engine::BlockCompletion done) override;
  engine::BlockAIOCB* aio_flush(engine::BlockDriverState& bs, engine::BlockCompletion done) override;
  engine::BlockAIOCB* aio_pdiscard(engine::BlockDriverState& bs, std::int64_t offset, int bytes,
                                   engine::BlockCompletion done) override;
  sim::Task<int> co_pwrite_zeroes(engine::BlockDriverState& bs, std::int64_t offset, int bytes,
                                  unsigned flags) override;
  sim::Task<int> co_pdiscard(engine::BlockDriverState& bs, std::int64_t offset, int bytes) override;
  sim::Task<int> co_flush(engine::BlockDriverState& bs) override;
  sim::Task<int> co_flush_to_os(engine::BlockDriverState& bs) override;
  sim::Task<int> co_flush_to_disk(engine::BlockDriverState& bs) override;
  sim::Task<std::int64_t> co_get_block_status(engine::BlockDriverState& bs, std::int64_t sector_num, int nb_sectors,
                                              int* pnum, engine::BlockDriverState** file) override;
  void refresh_limits(engine::BlockDriverState& bs) override;
  sim::Task<int> co_pwritev_compressed(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                                       engine::IoVector& qiov) override;
  sim::Task<int> save_vmstate(engine::BlockDriverState& bs, engine::IoVector& qiov, std::int64_t pos) override;
  sim::Task<int> load_vmstate(engine::BlockDriverState& bs, engine::IoVector& qiov, std::int64_t pos) override;
  sim::Task<int> co_ioctl(engine::BlockDriverState& bs, unsigned long request, void* buf) override;
  engine::BlockAIOCB* aio_ioctl(engine::BlockDriverState& bs, unsigned long request, void* buf,
                                engine::BlockCompletion done) override;
  void io_plug(engine::BlockDriverState& bs) override;
  void io_unplug(engine::BlockDriverState& bs) override;
  sim::Task<void> co_drain(engine::BlockDriverState& bs) override;
  int get_info(engine::BlockDriverState& bs, engine::BlockDriverInfo* bdi) override;

  static constexpr std::size_t kVmstateBytes = 1 << 20;

  // Applies the configured write/zero flags to a node using this driver.
  void configure_node(engine::BlockDriverState& bs) const override;

  // The visible content as one buffer (small images only).
  std::vector<std::uint8_t> contents() const;
  const Media& media() const { return media_; }
  // Whether the engine can ever flush this medium's cache (a driver without a
  // flush operation is trusted to be writethrough).
  bool can_flush() const { return config_.flush != MemConfig::Flush::kNone && config_.flush != MemConfig::Flush::kToOs; }
  // Initial content from a raw image file.
  absl::Status load_raw(const std::string& path) { return media_.load_raw(path); }
  absl::Status load(absl::Span<const std::uint8_t> content) { return media_.load(content); }
  absl::Status export_visible(const std::string& path) const { return media_.visible().save_raw(path); }
  absl::Status export_durable(const std::string& path) const { return media_.durable().save_raw(path); }
  // Power loss on this medium; traced as a fault on `bs`. Returns what was lost.
  std::uint64_t crash(engine::BlockDriverState& bs, CrashMode mode);
  // What a power loss now would leave, without cutting anything (the run goes
  // on): the writes in flight in the driver count by `mode` too. Draws from
  // the world's "power_cut" stream only.
  SparseImage power_cut_image(CrashMode mode) const;
  std::size_t writes_in_flight() const { return writing_.size(); }
  std::uint64_t reads() const { return reads_; }
  std::uint64_t writes() const { return writes_; }
  std::uint64_t flushes() const { return flushes_; }
  std::uint64_t bounced() const { return bounced_; }  // direct: vectors copied through a bounce buffer
  std::uint64_t zero_writes() const { return zero_writes_; }
  std::uint64_t discards() const { return discards_; }
  std::uint64_t compressed_writes() const { return compressed_writes_; }
  std::uint64_t ioctls() const { return ioctls_; }
  unsigned long last_ioctl() const { return last_ioctl_; }
  std::uint64_t plugs() const { return plugs_; }
  std::uint64_t unplugs() const { return unplugs_; }
  std::uint64_t drains() const { return drains_; }
  unsigned last_zero_flags() const { return last_zero_flags_; }
  unsigned last_write_flags() const { return last_write_flags_; }
  const std::vector<std::uint8_t>& vmstate() const { return vmstate_; }
  // Whether the sector holds written data (false: a hole that reads as zeroes).
  bool sector_allocated(std::int64_t sector) const;
  // Make the next callback request fail at once (returning no control block).
  void fail_next_submission() { fail_next_submission_ = true; }

 private:
  // A seeded draw from the latency range, as an awaitable (no frame).
  sim::DelayAwaiter latency(std::string_view op);
  int direct_io(const engine::BlockDriverState& bs, const engine::IoVector& qiov, std::uint64_t bytes,
                engine::BlockBuffer& bounce);
  int do_read(std::uint64_t offset, std::uint64_t bytes, engine::IoVector& qiov);
  int do_write(std::uint64_t offset, std::uint64_t bytes, engine::IoVector& qiov, bool fua);
  int do_flush(std::uint64_t ticket);
  // The error this flush returns (config flush_error, for the first
  // flush_error_count flushes or all of them), or 0.
  int next_flush_error();
  // A write (zero write, discard) for its time in the driver, registered so a
  // power cut meanwhile may land it in part. Lives in the request's frame.
  class InFlightWrite {
   public:
    InFlightWrite(MemDriver& driver, std::uint64_t offset, std::uint64_t bytes, const engine::IoVector* qiov);
    ~InFlightWrite();
    InFlightWrite(const InFlightWrite&) = delete;
    InFlightWrite& operator=(const InFlightWrite&) = delete;

   private:
    MemDriver& driver_;
    std::uint64_t id_;
  };
  // Callback style: run `op` after the latency, then complete.
  engine::BlockAIOCB* submit(engine::BlockDriverState& bs, std::string_view op, absl::AnyInvocable<int()> op_fn,
                             engine::BlockCompletion done);

  Media media_;
  MemConfig config_;
  FlushGate flush_gate_;
  sim::Rng& rng_;
  std::uint64_t length_ = 0;
  std::uint64_t truncates_ = 0;
  bool fail_next_submission_ = false;
  std::uint32_t failed_flushes_ = 0;
  std::uint64_t reads_ = 0;
  std::uint64_t writes_ = 0;
  std::uint64_t flushes_ = 0;
  std::uint64_t bounced_ = 0;
  std::uint64_t zero_writes_ = 0;
  std::uint64_t discards_ = 0;
  std::uint64_t compressed_writes_ = 0;
  std::uint64_t ioctls_ = 0;
  unsigned long last_ioctl_ = 0;
  std::uint64_t plugs_ = 0;
  std::uint64_t unplugs_ = 0;
  std::uint64_t drains_ = 0;
  unsigned last_zero_flags_ = 0;
  unsigned last_write_flags_ = 0;
  std::vector<std::uint8_t> vmstate_;
  std::vector<std::pair<std::uint64_t, Media::InFlight>> writing_;  // by registration id, oldest first
  std::uint64_t last_writing_id_ = 0;
};

}  // namespace drivers
