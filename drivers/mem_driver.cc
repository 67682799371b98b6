#include "drivers/mem_driver.h"

#include <algorithm>
#include <memory>

#include "drivers/driver_contract.h"
#include "engine/errors.h"
#include "engine/request_flags.h"
#include "sim/invariant.h"
#include "sim/probe.h"
#include "sim/str.h"
#include "sim/world.h"

namespace drivers {

namespace {
// Code probes (sim/probe.h).
const sim::Probe kProbeMemCrashLost("mem.crash_lost_writes", "a crash dropped writes the disk had not flushed");
const sim::Probe kProbeMemWriteGrew("mem.write_grew_file", "a write past the file's end grew it");
const sim::Probe kProbeMemNoSpace("mem.write_no_space", "a write past the media answered -ENOSPC");
const sim::Probe kProbeMemFlushError("mem.flush_error", "the disk failed a flush as configured");
const sim::Probe kProbeMemBounced("mem.direct_bounced", "direct I/O copied a misaligned vector through a bounce buffer");
const sim::Probe kProbeMemSubmitRefused("mem.submission_refused", "a callback submission was refused (no AIOCB)");
const sim::Probe kProbeMemZeroesUnsupported("mem.zeroes_enotsup", "the disk answered -ENOTSUP to a zero write");
}  // namespace

using engine::BDRV_SECTOR_BITS;
using engine::BDRV_SECTOR_SIZE;

MemDriver::MemDriver(std::uint64_t size_bytes, MemConfig config, sim::Rng& latency_rng)
    : media_(size_bytes, config.write_cache), config_(config), rng_(latency_rng), length_(size_bytes) {
  SIM_ASSERT(size_bytes <= kMaxSizeBytes, "mem driver size above its limit");
  SIM_ASSERT(config.latency.min_ns <= config.latency.max_ns && config.latency.max_ns <= kMaxLatencyNs,
             "mem driver latency out of range");
}

MemDriver::MemDriver(std::uint64_t size_bytes, LatencyRange latency, sim::Rng& latency_rng)
    : MemDriver(size_bytes, MemConfig{.latency = latency}, latency_rng) {}

std::uint32_t MemDriver::ops() const {
  std::uint32_t ops = engine::kRefreshLimits | engine::kTruncate;
  switch (config_.style) {
    case MemConfig::Style::kBytes: ops |= engine::kCoPreadv | engine::kCoPwritev; break;
    case MemConfig::Style::kSectors: ops |= engine::kCoReadv | engine::kCoWritev; break;
    case MemConfig::Style::kSectorsWithFlags: ops |= engine::kCoReadv | engine::kCoWritevFlags; break;
    case MemConfig::Style::kCallbacks: ops |= engine::kAioReadv | engine::kAioWritev; break;
  }
  switch (config_.flush) {
    case MemConfig::Flush::kToDisk: ops |= engine::kCoFlushToDisk; break;
    case MemConfig::Flush::kToOs: ops |= engine::kCoFlushToOs; break;
    case MemConfig::Flush::kWhole: ops |= engine::kCoFlush; break;
    case MemConfig::Flush::kCallback: ops |= engine::kAioFlush; break;
    case MemConfig::Flush::kNone: break;
  }
  if (config_.write_zeroes) ops |= engine::kCoPwriteZeroes;
  if (config_.discard) ops |= config_.style == MemConfig::Style::kCallbacks ? engine::kAioPdiscard : engine::kCoPdiscard;
  if (config_.block_status) ops |= engine::kCoGetBlockStatus;
  if (config_.compressed) ops |= engine::kPwritevCompressed;
  if (config_.vmstate) ops |= engine::kVmstate;
  if (config_.ioctl == MemConfig::Ioctl::kCoroutine) ops |= engine::kCoIoctl;
  if (config_.ioctl == MemConfig::Ioctl::kCallback) ops |= engine::kAioIoctl;
  if (config_.plug) ops |= engine::kIoPlug;
  if (config_.drain_callback) ops |= engine::kCoDrain;
  if (config_.cluster_size > 0) ops |= engine::kGetInfo;
  return ops;
}

void MemDriver::configure_node(engine::BlockDriverState& bs) const {
  // Sector drivers without co_writev_flags cannot take flags.
  if (config_.fua && (config_.style == MemConfig::Style::kBytes || config_.style == MemConfig::Style::kSectorsWithFlags)) {
    bs.supported_write_flags = engine::BDRV_REQ_FUA;
  }
  if (config_.fua && config_.write_zeroes) bs.supported_zero_flags = engine::BDRV_REQ_FUA | engine::BDRV_REQ_MAY_UNMAP;
}

void MemDriver::refresh_limits(engine::BlockDriverState& bs) {
  const engine::BlockLimits& want = config_.limits;
  if (want.request_alignment != 0) bs.bl.request_alignment = want.request_alignment;
  bs.bl.max_transfer = want.max_transfer;
  bs.bl.pwrite_zeroes_alignment = want.pwrite_zeroes_alignment;
  bs.bl.max_pwrite_zeroes = want.max_pwrite_zeroes;
  bs.bl.pdiscard_alignment = want.pdiscard_alignment;
  bs.bl.max_pdiscard = want.max_pdiscard;
  if (want.opt_transfer != 0) bs.bl.opt_transfer = want.opt_transfer;
  if (want.min_mem_alignment != 0) bs.bl.min_mem_alignment = want.min_mem_alignment;
  if (want.opt_mem_alignment != 0) bs.bl.opt_mem_alignment = want.opt_mem_alignment;
  if (want.max_iov != 0) bs.bl.max_iov = want.max_iov;
}

std::int64_t MemDriver::getlength(const engine::BlockDriverState&) const {
  return static_cast<std::int64_t>(length_);
}

void MemDriver::set_length(std::uint64_t length) {
  SIM_ASSERT(length <= media_.size(), "mem length above its capacity");
  length_ = length;
}

int MemDriver::truncate(engine::BlockDriverState& bs, std::int64_t offset) {
  check_node_has_driver(bs, "truncate");
  // A file's ftruncate: the bytes past the new length are gone (from the
  // cache and the disk at once: the length is metadata this model keeps
  // durable), and growing again reveals zeroes. Past the capacity: no space.
  if (offset < 0 || static_cast<std::uint64_t>(offset) > media_.size()) return -ENOSPC;
  media_.truncate(static_cast<std::uint64_t>(offset));
  length_ = static_cast<std::uint64_t>(offset);
  ++truncates_;
  return 0;
}

int MemDriver::get_info(engine::BlockDriverState&, engine::BlockDriverInfo* bdi) {
  bdi->cluster_size = config_.cluster_size;
  return 0;
}

std::vector<std::uint8_t> MemDriver::contents() const {
  SIM_ASSERT(media_.size() <= (1ULL << 30), "contents() of an image above 1 GiB");
  std::vector<std::uint8_t> out(media_.size());
  media_.visible().read(0, out.size(), out.data());
  return out;
}

std::uint64_t MemDriver::crash(engine::BlockDriverState& bs, CrashMode mode) {
  sim::World& world = sim::World::current();
  const std::uint64_t pending = media_.pending_writes();
  const std::uint64_t lost = media_.crash(mode, world.rng("crash"));
  if (lost > 0) kProbeMemCrashLost.hit();
  world.emit_ids(sim::EventKind::kFaultFired, 0, 0, pending, 0, static_cast<std::int64_t>(lost),
                 world.trace().intern(sim::cat("crash ", crash_mode_name(mode))), bs.trace_label());
  return lost;
}

SparseImage MemDriver::power_cut_image(CrashMode mode) const {
  std::vector<Media::InFlight> in_flight;
  in_flight.reserve(writing_.size());
  for (const auto& entry : writing_) in_flight.push_back(entry.second);
  return media_.power_cut_image(mode, sim::World::current().rng("power_cut"), in_flight);
}

MemDriver::InFlightWrite::InFlightWrite(MemDriver& driver, std::uint64_t offset, std::uint64_t bytes,
                                        const engine::IoVector* qiov)
    : driver_(driver), id_(++driver.last_writing_id_) {
  driver_.writing_.emplace_back(id_, Media::InFlight{offset, bytes, qiov});
}

MemDriver::InFlightWrite::~InFlightWrite() {
  auto& list = driver_.writing_;
  for (auto it = list.begin(); it != list.end(); ++it) {
    if (it->first == id_) {
      list.erase(it);
      return;
    }
  }
  SIM_ASSERT(false, "a write left the driver twice");
}

sim::DelayAwaiter MemDriver::latency(std::string_view op) {
  const std::uint64_t ns = rng_.between(config_.latency.min_ns, config_.latency.max_ns);
  return sim::co_delay_ns(ns, ns > 0 ? sim::World::current().intern(sim::cat("driver ", op)) : std::string_view());
}

bool MemDriver::sector_allocated(std::int64_t sector) const {
  return sector >= 0 && media_.visible().allocated(static_cast<std::uint64_t>(sector));
}

int MemDriver::do_read(std::uint64_t offset, std::uint64_t bytes, engine::IoVector& qiov) {
  ++reads_;
  media_.visible().read(offset, bytes, qiov);  // past the end reads as zeroes
  return 0;
}

int MemDriver::do_write(std::uint64_t offset, std::uint64_t bytes, engine::IoVector& qiov, bool fua) {
  ++writes_;
  if (offset + bytes > media_.size()) {
    kProbeMemNoSpace.hit();
    return -ENOSPC;
  }
  media_.write(offset, bytes, qiov, fua);
  if (offset + bytes > length_) kProbeMemWriteGrew.hit();
  length_ = std::max(length_, offset + bytes);  // a write past the end grows the file
  return 0;
}

int MemDriver::next_flush_error() {
  if (config_.flush_error == 0) return 0;
  if (config_.flush_error_count != 0 && failed_flushes_ >= config_.flush_error_count) return 0;
  ++failed_flushes_;
  kProbeMemFlushError.hit();
  return config_.flush_error;
}

int MemDriver::do_flush(std::uint64_t ticket) {
  ++flushes_;
  const int ret = next_flush_error();
  if (ret == 0) media_.flush_complete(ticket);
  return ret;
}

// file-posix's raw_co_prw with needs_alignment set, and handle_aiocb_rw: an
// aligned vector goes to the device as it is; any other is copied through one
// buffer from qemu_try_blockalign (`bounce`, set on return), -ENOMEM if that
// allocation fails.
int MemDriver::direct_io(const engine::BlockDriverState& bs, const engine::IoVector& qiov, std::uint64_t bytes,
                         engine::BlockBuffer& bounce) {
  if (engine::bdrv_qiov_is_aligned(bs, qiov)) {
    check_direct_buffers(bs, qiov);
    return 0;
  }
  ++bounced_;
  kProbeMemBounced.hit();
  bounce = engine::qemu_try_blockalign(bs, static_cast<std::size_t>(bytes));
  if (!bounce) return -ENOMEM;
  check_direct_buffers(bs, engine::IoVector(absl::MakeSpan(bounce.data(), static_cast<std::size_t>(bytes))));
  return 0;
}

sim::Task<int> MemDriver::co_preadv(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                                    engine::IoVector& qiov, unsigned) {
  check_request_limits(bs, RequestKind::kRead, offset, bytes, &qiov);
  engine::BlockBuffer bounce;
  if (config_.direct) {
    if (const int ret = direct_io(bs, qiov, bytes, bounce); ret < 0) co_return ret;
  }
  co_await latency("preadv");
  if (!bounce) co_return do_read(offset, bytes, qiov);
  engine::IoVector linear(absl::MakeSpan(bounce.data(), static_cast<std::size_t>(bytes)));
  const int ret = do_read(offset, bytes, linear);
  if (ret >= 0) qiov.copy_from(0, bounce.data(), static_cast<std::size_t>(bytes));
  co_return ret;
}

sim::Task<int> MemDriver::co_pwritev(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                                     engine::IoVector& qiov, unsigned flags) {
  check_request_limits(bs, RequestKind::kWrite, offset, bytes, &qiov);
  check_request_flags(bs, RequestKind::kWrite, flags);
  check_node_writable(bs, RequestKind::kWrite);
  last_write_flags_ = flags;
  engine::BlockBuffer bounce;
  if (config_.direct) {
    if (const int ret = direct_io(bs, qiov, bytes, bounce); ret < 0) co_return ret;
  }
  engine::IoVector linear;
  if (bounce) {
    qiov.copy_to(0, bounce.data(), static_cast<std::size_t>(bytes));
    linear.add(absl::MakeSpan(bounce.data(), static_cast<std::size_t>(bytes)));
  }
  engine::IoVector& out = bounce ? linear : qiov;
  const InFlightWrite in_flight(*this, offset, bytes, &out);
  co_await latency("pwritev");
  co_return do_write(offset, bytes, out, (flags & engine::BDRV_REQ_FUA) != 0);
}

sim::Task<int> MemDriver::co_readv(engine::BlockDriverState& bs, std::int64_t sector_num, int nb_sectors,
                                   engine::IoVector& qiov) {
  check_request_limits(bs, RequestKind::kRead, static_cast<std::uint64_t>(sector_num) << BDRV_SECTOR_BITS,
                       static_cast<std::uint64_t>(nb_sectors) << BDRV_SECTOR_BITS, &qiov);
  co_await latency("readv");
  co_return do_read(static_cast<std::uint64_t>(sector_num) << BDRV_SECTOR_BITS,
                    static_cast<std::uint64_t>(nb_sectors) << BDRV_SECTOR_BITS, qiov);
}

sim::Task<int> MemDriver::co_writev(engine::BlockDriverState& bs, std::int64_t sector_num, int nb_sectors,
                                    engine::IoVector& qiov) {
  check_request_limits(bs, RequestKind::kWrite, static_cast<std::uint64_t>(sector_num) << BDRV_SECTOR_BITS,
                       static_cast<std::uint64_t>(nb_sectors) << BDRV_SECTOR_BITS, &qiov);
  check_node_writable(bs, RequestKind::kWrite);
  const InFlightWrite in_flight(*this, static_cast<std::uint64_t>(sector_num) << BDRV_SECTOR_BITS,
                                static_cast<std::uint64_t>(nb_sectors) << BDRV_SECTOR_BITS, &qiov);
  co_await latency("writev");
  co_return do_write(static_cast<std::uint64_t>(sector_num) << BDRV_SECTOR_BITS,
                     static_cast<std::uint64_t>(nb_sectors) << BDRV_SECTOR_BITS, qiov, false);
}

sim::Task<int> MemDriver::co_writev_flags(engine::BlockDriverState& bs, std::int64_t sector_num, int nb_sectors,
                                          engine::IoVector& qiov, unsigned flags) {
  check_request_limits(bs, RequestKind::kWrite, static_cast<std::uint64_t>(sector_num) << BDRV_SECTOR_BITS,
                       static_cast<std::uint64_t>(nb_sectors) << BDRV_SECTOR_BITS, &qiov);
  check_request_flags(bs, RequestKind::kWrite, flags);
  check_node_writable(bs, RequestKind::kWrite);
  last_write_flags_ = flags;
  const InFlightWrite in_flight(*this, static_cast<std::uint64_t>(sector_num) << BDRV_SECTOR_BITS,
                                static_cast<std::uint64_t>(nb_sectors) << BDRV_SECTOR_BITS, &qiov);
  co_await latency("writev");
  co_return do_write(static_cast<std::uint64_t>(sector_num) << BDRV_SECTOR_BITS,
                     static_cast<std::uint64_t>(nb_sectors) << BDRV_SECTOR_BITS, qiov,
                     (flags & engine::BDRV_REQ_FUA) != 0);
}

engine::BlockAIOCB* MemDriver::submit(engine::BlockDriverState& bs, std::string_view op,
                                      absl::AnyInvocable<int()> op_fn, engine::BlockCompletion done) {
  if (fail_next_submission_) {
    kProbeMemSubmitRefused.hit();
    fail_next_submission_ = false;
    return nullptr;
  }
  sim::World& world = sim::World::current();
  // The completion's timer holds the driver's reference: a run that ends
  // before it fires (a verdict) drops the timer, and the reference with it.
  struct Unref {
    void operator()(engine::BlockAIOCB* acb) const { engine::qemu_aio_unref(acb); }
  };
  std::unique_ptr<engine::BlockAIOCB, Unref> held(new engine::BlockAIOCB{nullptr, &bs, 1, nullptr});
  engine::BlockAIOCB* acb = held.get();
  const std::uint64_t ns = rng_.between(config_.latency.min_ns, config_.latency.max_ns);
  bs.aio_context().timer_add(world.now_ns() + ns, world.intern(sim::cat("aio ", op)),
                             [held = std::move(held), fn = std::move(op_fn), cb = std::move(done)]() mutable {
                               cb(fn());
                               held.reset();
                             });
  return acb;
}

engine::BlockAIOCB* MemDriver::aio_readv(engine::BlockDriverState& bs, std::int64_t sector_num, engine::IoVector& qiov,
                                         int nb_sectors, engine::BlockCompletion done) {
  check_request_limits(bs, RequestKind::kRead, static_cast<std::uint64_t>(sector_num) << BDRV_SECTOR_BITS,
                       static_cast<std::uint64_t>(nb_sectors) << BDRV_SECTOR_BITS, &qiov);
  return submit(bs, "readv", [this, sector_num, nb_sectors, &qiov] {
    return do_read(static_cast<std::uint64_t>(sector_num) << BDRV_SECTOR_BITS,
                   static_cast<std::uint64_t>(nb_sectors) << BDRV_SECTOR_BITS, qiov);
  }, std::move(done));
}

engine::BlockAIOCB* MemDriver::aio_writev(engine::BlockDriverState& bs, std::int64_t sector_num, engine::IoVector& qiov,
                                          int nb_sectors, engine::BlockCompletion done) {
  check_request_limits(bs, RequestKind::kWrite, static_cast<std::uint64_t>(sector_num) << BDRV_SECTOR_BITS,
                       static_cast<std::uint64_t>(nb_sectors) << BDRV_SECTOR_BITS, &qiov);
  check_node_writable(bs, RequestKind::kWrite);
  return submit(bs, "writev", [this, sector_num, nb_sectors, &qiov] {
    return do_write(static_cast<std::uint64_t>(sector_num) << BDRV_SECTOR_BITS,
                    static_cast<std::uint64_t>(nb_sectors) << BDRV_SECTOR_BITS, qiov, false);
  }, std::move(done));
}

engine::BlockAIOCB* MemDriver::aio_flush(engine::BlockDriverState& bs, engine::BlockCompletion done) {
  flush_gate_.enter(bs);
  const std::uint64_t ticket = media_.flush_begin();
  engine::BlockAIOCB* acb = submit(bs, "flush", [this, ticket] {
    flush_gate_.leave();
    return do_flush(ticket);
  }, std::move(done));
  if (acb == nullptr) flush_gate_.leave();
  return acb;
}

engine::BlockAIOCB* MemDriver::aio_pdiscard(engine::BlockDriverState& bs, std::int64_t offset, int bytes,
                                            engine::BlockCompletion done) {
  check_request_limits(bs, RequestKind::kDiscard, static_cast<std::uint64_t>(offset), static_cast<std::uint64_t>(bytes));
  check_node_writable(bs, RequestKind::kDiscard);
  return submit(bs, "pdiscard", [this, offset, bytes] {
    ++discards_;
    if (!config_.discard_advisory) media_.zero(static_cast<std::uint64_t>(offset), static_cast<std::uint64_t>(bytes), false);
    return 0;
  }, std::move(done));
}

sim::Task<int> MemDriver::co_pwrite_zeroes(engine::BlockDriverState& bs, std::int64_t offset, int bytes, unsigned flags) {
  check_request_limits(bs, RequestKind::kZero, static_cast<std::uint64_t>(offset), static_cast<std::uint64_t>(bytes));
  check_request_flags(bs, RequestKind::kZero, flags);
  check_node_writable(bs, RequestKind::kZero);
  last_zero_flags_ = flags;
  if (config_.zeroes_enotsup) {
    kProbeMemZeroesUnsupported.hit();
    co_return -ENOTSUP;
  }
  const InFlightWrite in_flight(*this, static_cast<std::uint64_t>(offset), static_cast<std::uint64_t>(bytes), nullptr);
  co_await latency("pwrite_zeroes");
  ++zero_writes_;
  if (static_cast<std::uint64_t>(offset + bytes) > media_.size()) co_return -ENOSPC;
  media_.zero(static_cast<std::uint64_t>(offset), static_cast<std::uint64_t>(bytes), (flags & engine::BDRV_REQ_FUA) != 0);
  length_ = std::max(length_, static_cast<std::uint64_t>(offset + bytes));
  co_return 0;
}

sim::Task<int> MemDriver::co_pdiscard(engine::BlockDriverState& bs, std::int64_t offset, int bytes) {
  check_request_limits(bs, RequestKind::kDiscard, static_cast<std::uint64_t>(offset), static_cast<std::uint64_t>(bytes));
  check_node_writable(bs, RequestKind::kDiscard);
  const InFlightWrite in_flight(*this, static_cast<std::uint64_t>(offset),
                                config_.discard_advisory ? 0 : static_cast<std::uint64_t>(bytes), nullptr);
  co_await latency("pdiscard");
  ++discards_;
  // Discarded bytes read as zeroes afterwards, unless discard is only advisory.
  if (!config_.discard_advisory) media_.zero(static_cast<std::uint64_t>(offset), static_cast<std::uint64_t>(bytes), false);
  co_return 0;
}

sim::Task<int> MemDriver::co_flush(engine::BlockDriverState& bs) {
  flush_gate_.enter(bs);
  const std::uint64_t ticket = media_.flush_begin();
  co_await latency("flush");
  flush_gate_.leave();
  co_return do_flush(ticket);
}

sim::Task<int> MemDriver::co_flush_to_os(engine::BlockDriverState& bs) {
  // Only as far as the OS: nothing becomes durable.
  flush_gate_.enter(bs);
  co_await latency("flush_to_os");
  flush_gate_.leave();
  ++flushes_;
  co_return next_flush_error();
}

sim::Task<int> MemDriver::co_flush_to_disk(engine::BlockDriverState& bs) {
  flush_gate_.enter(bs);
  const std::uint64_t ticket = media_.flush_begin();
  co_await latency("flush");
  flush_gate_.leave();
  co_return do_flush(ticket);
}

sim::Task<std::int64_t> MemDriver::co_get_block_status(engine::BlockDriverState& bs, std::int64_t sector_num,
                                                       int nb_sectors, int* pnum, engine::BlockDriverState** file) {
  check_block_status_call(bs, sector_num, nb_sectors);
  // Runs of sectors with the same state: written data, or a hole reading as zeroes.
  const bool first = sector_allocated(sector_num);
  const int n = sector_num < 0 ? 1
                               : static_cast<int>(media_.visible().same_state_run(
                                     static_cast<std::uint64_t>(sector_num), static_cast<std::uint64_t>(std::max(nb_sectors, 1))));
  *pnum = n;
  *file = &bs;
  co_return (first ? engine::BDRV_BLOCK_DATA : engine::BDRV_BLOCK_ZERO) | engine::BDRV_BLOCK_OFFSET_VALID |
      (sector_num << BDRV_SECTOR_BITS);
}

sim::Task<int> MemDriver::co_pwritev_compressed(engine::BlockDriverState&, std::uint64_t offset,
                                                std::uint64_t bytes, engine::IoVector& qiov) {
  // Compressed writes are whole clusters, never fragmented by the engine, so
  // they bypass the max_transfer contract.
  ++compressed_writes_;
  last_write_flags_ = 0;
  const InFlightWrite in_flight(*this, offset, bytes, &qiov);
  co_await latency("pwritev");
  co_return do_write(offset, bytes, qiov, false);
}

sim::Task<int> MemDriver::save_vmstate(engine::BlockDriverState&, engine::IoVector& qiov, std::int64_t pos) {
  co_await latency("save_vmstate");
  if (pos < 0 || static_cast<std::size_t>(pos) + qiov.size() > kVmstateBytes) co_return -EINVAL;
  if (vmstate_.size() < static_cast<std::size_t>(pos) + qiov.size()) vmstate_.resize(static_cast<std::size_t>(pos) + qiov.size());
  qiov.copy_to(0, vmstate_.data() + pos, qiov.size());
  co_return 0;
}

sim::Task<int> MemDriver::load_vmstate(engine::BlockDriverState&, engine::IoVector& qiov, std::int64_t pos) {
  co_await latency("load_vmstate");
  if (pos < 0 || static_cast<std::size_t>(pos) + qiov.size() > kVmstateBytes) co_return -EINVAL;
  // The area reads as zeroes where nothing was saved.
  const auto at = static_cast<std::size_t>(pos);
  const std::size_t saved = at < vmstate_.size() ? std::min(qiov.size(), vmstate_.size() - at) : 0;
  if (saved > 0) qiov.copy_from(0, vmstate_.data() + at, saved);
  if (saved < qiov.size()) qiov.memset(saved, 0, qiov.size() - saved);
  co_return 0;
}

sim::Task<int> MemDriver::co_ioctl(engine::BlockDriverState&, unsigned long request, void*) {
  co_await latency("ioctl");
  ++ioctls_;
  last_ioctl_ = request;
  co_return 0;  // as SG_IO answers a well-formed request
}

engine::BlockAIOCB* MemDriver::aio_ioctl(engine::BlockDriverState& bs, unsigned long request, void*,
                                         engine::BlockCompletion done) {
  return submit(bs, "ioctl", [this, request] {
    ++ioctls_;
    last_ioctl_ = request;
    return 0;
  }, std::move(done));
}

void MemDriver::io_plug(engine::BlockDriverState&) { ++plugs_; }
void MemDriver::io_unplug(engine::BlockDriverState&) { ++unplugs_; }

sim::Task<void> MemDriver::co_drain(engine::BlockDriverState&) {
  ++drains_;
  if (config_.drain_sleep_ns > 0) co_await sim::co_sleep_ns(config_.drain_sleep_ns, "driver drain");
}

}  // namespace drivers
