#include "drivers/cow_format.h"

#include <algorithm>
#include <cstring>

#include "engine/block_driver_state.h"
#include "engine/drain.h"
#include "drivers/driver_contract.h"
#include "engine/io.h"
#include "sim/invariant.h"
#include "sim/probe.h"
#include "sim/world.h"

namespace drivers {

namespace {
// Code probes (sim/probe.h).
const sim::Probe kProbeCowBacking("cow.read_backing", "a read of an unallocated cluster went to the backing file");
const sim::Probe kProbeCowPastBacking("cow.read_past_backing_end", "a read of an unallocated cluster reached past the backing file's end");
const sim::Probe kProbeCowNoBacking("cow.read_unallocated_no_backing", "a read of an unallocated cluster without a backing file read zeroes");
const sim::Probe kProbeCowZeroCluster("cow.read_zero_cluster", "a read of a zero cluster");
const sim::Probe kProbeCowAllocate("cow.allocate", "a write allocated a cluster (copy-on-write of the rest of it)");
const sim::Probe kProbeCowAllocatedMeanwhile("cow.allocated_meanwhile", "a write found its cluster allocated by another after waiting for the lock");
const sim::Probe kProbeCowAllocateFailed("cow.allocate_failed", "a cluster allocation failed part way");
const sim::Probe kProbeCowZeroUnaligned("cow.zero_not_whole_clusters", "a zero write of part of a cluster answered -ENOTSUP");
const sim::Probe kProbeCowDiscardUnaligned("cow.discard_not_whole_clusters", "a discard of part of a cluster answered -ENOTSUP");
const sim::Probe kProbeCowStatusRun("cow.status_run", "block status reported a run of several clusters in one state");
}  // namespace

using engine::BDRV_SECTOR_BITS;
using engine::BDRV_SECTOR_SIZE;
using engine::BlkdebugEvent;

namespace {
constexpr std::uint64_t kZeroEntry = 1;
constexpr std::uint64_t kCompressedBit = 2;
constexpr std::uint64_t kDataFileBit = 4;  // a data cluster in the data file (its offset may be 0)
constexpr std::int64_t kEntryBytes = 8;

void put64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint64_t get64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
}  // namespace

CowFormat::CowFormat(CowOptions options)
    : options_(options),
      table_clusters_((options.virtual_size / std::max<std::int64_t>(options.cluster_size, 1) * kEntryBytes +
                       options.cluster_size - 1) /
                      std::max<std::int64_t>(options.cluster_size, 1)),
      data_start_((1 + table_clusters_) * options.cluster_size),
      map_(static_cast<std::size_t>(options.virtual_size / std::max<std::int64_t>(options.cluster_size, 1))),
      next_host_offset_(data_start_),
      lock_("cow.lock") {
  SIM_ASSERT(engine::is_power_of_2(static_cast<std::uint64_t>(options.cluster_size)) &&
                 options.cluster_size >= kMinClusterSize && options.cluster_size <= kMaxClusterSize,
             "cow cluster size must be a power of two from 512 bytes to 2 MiB");
  SIM_ASSERT(options.virtual_size > 0 && options.virtual_size % options.cluster_size == 0,
             "cow virtual size must be a positive number of whole clusters");
}

std::int64_t CowFormat::file_size_needed(const CowOptions& o) {
  const std::int64_t clusters = o.virtual_size / o.cluster_size;
  const std::int64_t table = (clusters * kEntryBytes + o.cluster_size - 1) / o.cluster_size;
  return (1 + table + (o.data_file ? 0 : clusters)) * o.cluster_size;
}

engine::BdrvChild& CowFormat::data_child(engine::BlockDriverState& bs) const {
  if (!options_.data_file) return *bs.file;
  for (engine::BdrvChild* c : bs.children) {
    if (c->kind == engine::ChildRole::kData) return *c;
  }
  SIM_ASSERT(false, "a cow node with data_file but no data-file child");
  return *bs.file;
}

std::uint32_t CowFormat::ops() const {
  std::uint32_t ops = engine::kCoPreadv | engine::kCoPwritev | engine::kCoPwriteZeroes | engine::kCoPdiscard |
                      engine::kCoGetBlockStatus | engine::kRefreshLimits | engine::kGetInfo;
  if (options_.compressed) ops |= engine::kPwritevCompressed;
  return ops;
}

void CowFormat::refresh_limits(engine::BlockDriverState& bs) {
  // Zeroes and discards only work on whole clusters.
  bs.bl.pwrite_zeroes_alignment = static_cast<std::uint32_t>(options_.cluster_size);
  bs.bl.pdiscard_alignment = static_cast<std::uint32_t>(options_.cluster_size);
}

int CowFormat::get_info(engine::BlockDriverState&, engine::BlockDriverInfo* bdi) {
  bdi->cluster_size = static_cast<std::int32_t>(options_.cluster_size);
  bdi->unallocated_blocks_are_zero = true;  // without a backing file
  return 0;
}

std::uint64_t CowFormat::encode(const Entry& e) {
  switch (e.state) {
    case State::kUnallocated: return 0;
    case State::kZero: return kZeroEntry;
    case State::kData:
      return static_cast<std::uint64_t>(e.host_offset) | (e.compressed ? kCompressedBit : 0) |
             (e.in_data_file ? kDataFileBit : 0);
  }
  return 0;
}

CowFormat::Entry CowFormat::decode(std::uint64_t raw) {
  if (raw == 0) return Entry{};
  if (raw == kZeroEntry) return Entry{State::kZero, 0, false, false};
  return Entry{State::kData, static_cast<std::int64_t>(raw & ~(kCompressedBit | kZeroEntry | kDataFileBit)),
               (raw & kCompressedBit) != 0, (raw & kDataFileBit) != 0};
}

sim::Task<int> CowFormat::write_entry(engine::BlockDriverState& bs, std::int64_t cluster) {
  co_return co_await write_entry(bs, cluster, map_[static_cast<std::size_t>(cluster)]);
}

sim::Task<int> CowFormat::write_entry(engine::BlockDriverState& bs, std::int64_t cluster, Entry entry) {
  std::uint8_t raw[kEntryBytes];
  put64(raw, encode(entry));
  engine::IoVector q(absl::MakeSpan(raw, kEntryBytes));
  co_await engine::bdrv_debug_event(bs.file, BlkdebugEvent::kL2Update);
  co_return co_await engine::bdrv_co_pwritev(*bs.file, table_offset(cluster), kEntryBytes, &q, 0);
}

sim::Task<int> CowFormat::co_create(engine::BlockDriverState& bs) {
  std::vector<std::uint8_t> header(static_cast<std::size_t>(options_.cluster_size), 0);
  put64(header.data(), kMagic);
  put64(header.data() + 8, static_cast<std::uint64_t>(options_.virtual_size));
  put64(header.data() + 16, static_cast<std::uint64_t>(options_.cluster_size));
  engine::IoVector q(absl::MakeSpan(header));
  int ret = co_await engine::bdrv_co_pwritev(*bs.file, 0, header.size(), &q, 0);
  if (ret < 0) co_return ret;
  ret = co_await engine::bdrv_co_pwrite_zeroes(*bs.file, options_.cluster_size,
                                              static_cast<int>(table_clusters_ * options_.cluster_size), 0);
  if (ret < 0) co_return ret;
  std::fill(map_.begin(), map_.end(), Entry{});
  next_host_offset_ = data_start_;
  co_return co_await engine::bdrv_co_flush(*bs.file->bs);
}

sim::Task<int> CowFormat::co_open(engine::BlockDriverState& bs) {
  std::vector<std::uint8_t> header(24, 0);
  engine::IoVector hq(absl::MakeSpan(header));
  int ret = co_await engine::bdrv_co_preadv(*bs.file, 0, header.size(), hq, 0);
  if (ret < 0) co_return ret;
  if (get64(header.data()) != kMagic ||
      get64(header.data() + 8) != static_cast<std::uint64_t>(options_.virtual_size) ||
      get64(header.data() + 16) != static_cast<std::uint64_t>(options_.cluster_size)) {
    co_return -EINVAL;
  }
  std::vector<std::uint8_t> table(map_.size() * kEntryBytes, 0);
  engine::IoVector tq(absl::MakeSpan(table));
  ret = co_await engine::bdrv_co_preadv(*bs.file, options_.cluster_size, table.size(), tq, 0);
  if (ret < 0) co_return ret;
  next_host_offset_ = data_start_;
  for (std::size_t c = 0; c < map_.size(); ++c) {
    map_[c] = decode(get64(table.data() + c * kEntryBytes));
    if (map_[c].state == State::kData) next_host_offset_ = std::max(next_host_offset_, map_[c].host_offset + options_.cluster_size);
  }
  co_return 0;
}

namespace {
template <typename Body>
int run_sync(engine::BlockDriverState& bs, Body body) {
  int ret = 1;
  // Kicks the main loop after storing the result, so that a node in an
  // IOThread does not leave the set-up's poll asleep (the harness's create
  // and reopen, not the reference's sync wrappers: those keep their defect).
  auto co = [](Body b, int& out, engine::BlockDriverState& node) -> sim::Task<void> {
    out = co_await b();
    engine::bdrv_wakeup(node);
  };
  sim::World::current().spawn(bs.aio_context(), "cow open", co(std::move(body), ret, bs));
  engine::bdrv_poll_while(bs, [&] { return ret == 1; });
  return ret;
}
}  // namespace

int CowFormat::create(engine::BlockDriverState& bs) {
  return run_sync(bs, [this, &bs] { return co_create(bs); });
}

int CowFormat::open(engine::BlockDriverState& bs) {
  return run_sync(bs, [this, &bs] { return co_open(bs); });
}

sim::Task<int> CowFormat::read_backing(engine::BlockDriverState& bs, std::int64_t offset, std::int64_t bytes,
                                       engine::IoVector& qiov, std::size_t qiov_offset) {
  if (bs.backing == nullptr) {
    kProbeCowNoBacking.hit();
    qiov.memset(qiov_offset, 0, static_cast<std::size_t>(bytes));
    co_return 0;
  }
  // Past the end of a shorter backing file reads as zeroes.
  const std::int64_t backing_len = engine::bdrv_getlength(*bs.backing->bs);
  if (backing_len < 0) co_return static_cast<int>(backing_len);
  const std::int64_t avail = std::clamp<std::int64_t>(backing_len - offset, 0, bytes);
  kProbeCowBacking.hit();
  if (avail < bytes) {
    kProbeCowPastBacking.hit();
    qiov.memset(qiov_offset + static_cast<std::size_t>(avail), 0, static_cast<std::size_t>(bytes - avail));
  }
  if (avail == 0) co_return 0;
  engine::IoVector part;
  part.concat(qiov, qiov_offset, static_cast<std::size_t>(avail));
  co_return co_await engine::bdrv_co_preadv(*bs.backing, offset, static_cast<std::uint64_t>(avail), part, 0);
}

CowFormat::Piece CowFormat::piece_at(std::uint64_t offset, std::size_t done, std::uint64_t bytes) const {
  const std::int64_t cs = options_.cluster_size;
  const auto pos = static_cast<std::int64_t>(offset + done);
  return Piece{pos, pos / cs, pos % cs,
               static_cast<std::size_t>(std::min<std::int64_t>(cs - pos % cs, static_cast<std::int64_t>(bytes - done)))};
}

sim::Task<int> CowFormat::co_preadv(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                                    engine::IoVector& qiov, unsigned) {
  check_request_limits(bs, RequestKind::kRead, offset, bytes, &qiov);
  co_return co_await read_guest(bs, offset, bytes, qiov);
}

sim::Task<int> CowFormat::read_guest(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                                     engine::IoVector& qiov) {
  std::size_t done = 0;
  while (done < bytes) {
    const Piece piece = piece_at(offset, done, bytes);
    const std::int64_t pos = piece.pos;
    const std::int64_t cluster = piece.cluster;
    const std::int64_t in_cluster = piece.in_cluster;
    const std::size_t n = piece.bytes;
    const Entry entry = map_[static_cast<std::size_t>(cluster)];
    int ret = 0;
    switch (entry.state) {
      case State::kZero:
        kProbeCowZeroCluster.hit();
        qiov.memset(done, 0, n);
        break;
      case State::kUnallocated:
        ret = co_await read_backing(bs, pos, static_cast<std::int64_t>(n), qiov, done);
        break;
      case State::kData: {
        engine::IoVector part;
        part.concat(qiov, done, n);
        engine::BdrvChild& data = data_child(bs);
        co_await engine::bdrv_debug_event(&data, BlkdebugEvent::kReadAio);
        ret = co_await engine::bdrv_co_preadv(data, entry.host_offset + in_cluster, n, part, 0);
        break;
      }
    }
    if (ret < 0) co_return ret;
    done += n;
  }
  co_return 0;
}

sim::Task<int> CowFormat::read_cluster(engine::BlockDriverState& bs, std::int64_t cluster,
                                       std::vector<std::uint8_t>& buf) {
  buf.assign(static_cast<std::size_t>(options_.cluster_size), 0);
  engine::IoVector whole(absl::MakeSpan(buf));
  co_await engine::bdrv_debug_event(bs.file, BlkdebugEvent::kCowRead);
  co_return co_await read_guest(bs, static_cast<std::uint64_t>(cluster * options_.cluster_size),
                                static_cast<std::uint64_t>(options_.cluster_size), whole);
}

// Allocates a host cluster for `cluster`: the rest of the cluster from what the
// guest saw so far, the new bytes on top; data, flush, then the table entry.
// Called with lock_ held.
sim::Task<int> CowFormat::allocate(engine::BlockDriverState& bs, std::int64_t cluster, std::int64_t in_cluster,
                                   engine::IoVector& qiov, std::size_t qiov_offset, std::size_t n, unsigned flags,
                                   bool compressed) {
  kProbeCowAllocate.hit();
  std::vector<std::uint8_t> buf;
  int ret = co_await read_cluster(bs, cluster, buf);
  if (ret < 0) co_return ret;
  qiov.copy_to(qiov_offset, buf.data() + in_cluster, n);
  co_await engine::bdrv_debug_event(bs.file, BlkdebugEvent::kClusterAlloc);
  // In the data file a cluster sits at its guest offset; in the file, at the
  // next free host cluster (claimed now: a failed write leaks it, as in qcow2).
  std::int64_t host = cluster * options_.cluster_size;
  if (!options_.data_file) {
    host = next_host_offset_;
    next_host_offset_ += options_.cluster_size;
  }
  engine::BdrvChild& data = data_child(bs);
  engine::IoVector whole(absl::MakeSpan(buf));
  co_await engine::bdrv_debug_event(&data, BlkdebugEvent::kCowWrite);
  ret = co_await engine::bdrv_co_pwritev(data, host, static_cast<std::uint64_t>(options_.cluster_size), &whole, flags);
  if (ret < 0) co_return ret;
  if (!options_.unsafe_metadata_order) {
    // The data must be on disk before any table entry points at it.
    ret = co_await engine::bdrv_co_flush(*data.bs);
    if (ret < 0) co_return ret;
  }
  // The table entry first, then the map requests consult: a request that
  // found the cluster unallocated waits for lock_ meanwhile, so none writes
  // into the new cluster (and completes, and flushes) before the entry that
  // makes its data reachable is written, as qcow2's overlapping requests wait
  // for an allocation in flight.
  const Entry entry{State::kData, host, compressed, options_.data_file};
  ret = co_await write_entry(bs, cluster, entry);
  if (ret < 0) co_return ret;
  map_[static_cast<std::size_t>(cluster)] = entry;
  ++allocations_;
  co_return 0;
}

sim::Task<int> CowFormat::co_pwritev(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                                     engine::IoVector& qiov, unsigned flags) {
  check_request_limits(bs, RequestKind::kWrite, offset, bytes, &qiov);
  check_request_flags(bs, RequestKind::kWrite, flags);
  check_node_writable(bs, RequestKind::kWrite);
  std::size_t done = 0;
  while (done < bytes) {
    const Piece piece = piece_at(offset, done, bytes);
    const std::int64_t cluster = piece.cluster;
    const std::int64_t in_cluster = piece.in_cluster;
    const std::size_t n = piece.bytes;
    int ret;
    if (map_[static_cast<std::size_t>(cluster)].state == State::kData) {
      engine::IoVector part;
      part.concat(qiov, done, n);
      engine::BdrvChild& data = data_child(bs);
      co_await engine::bdrv_debug_event(&data, BlkdebugEvent::kWriteAio);
      ret = co_await engine::bdrv_co_pwritev(data, map_[static_cast<std::size_t>(cluster)].host_offset + in_cluster,
                                             n, &part, flags);
    } else {
      co_await lock_.lock();
      if (map_[static_cast<std::size_t>(cluster)].state == State::kData) {
        lock_.unlock();
        kProbeCowAllocatedMeanwhile.hit();
        continue;  // allocated meanwhile: write in place on the next pass
      }
      ret = co_await allocate(bs, cluster, in_cluster, qiov, done, n, flags, false);
      if (ret < 0) kProbeCowAllocateFailed.hit();
      lock_.unlock();
    }
    if (ret < 0) co_return ret;
    done += n;
  }
  co_return 0;
}

sim::Task<int> CowFormat::co_pwritev_compressed(engine::BlockDriverState& bs, std::uint64_t offset,
                                                std::uint64_t bytes, engine::IoVector& qiov) {
  const auto cs = static_cast<std::uint64_t>(options_.cluster_size);
  // Compressed writes are whole, unallocated clusters, as in qcow2.
  if (offset % cs != 0 || bytes != cs) co_return -EINVAL;
  const auto cluster = static_cast<std::int64_t>(offset / cs);
  co_await lock_.lock();
  int ret = -EINVAL;
  if (map_[static_cast<std::size_t>(cluster)].state != State::kData) {
    ret = co_await allocate(bs, cluster, 0, qiov, 0, static_cast<std::size_t>(bytes), 0, true);
  }
  lock_.unlock();
  co_return ret;
}

sim::Task<int> CowFormat::co_pwrite_zeroes(engine::BlockDriverState& bs, std::int64_t offset, int bytes, unsigned flags) {
  check_request_limits(bs, RequestKind::kZero, static_cast<std::uint64_t>(offset), static_cast<std::uint64_t>(bytes));
  check_request_flags(bs, RequestKind::kZero, flags);
  check_node_writable(bs, RequestKind::kZero);
  const std::int64_t cs = options_.cluster_size;
  // Only whole clusters can become zero clusters; the engine falls back otherwise.
  if (offset % cs != 0 || bytes % cs != 0) {
    kProbeCowZeroUnaligned.hit();
    co_return -ENOTSUP;
  }
  co_await lock_.lock();
  int ret = 0;
  for (std::int64_t c = offset / cs; c < (offset + bytes) / cs && ret == 0; ++c) {
    map_[static_cast<std::size_t>(c)] = Entry{State::kZero, 0, false, false};
    ret = co_await write_entry(bs, c);
  }
  lock_.unlock();
  co_return ret;
}

sim::Task<int> CowFormat::co_pdiscard(engine::BlockDriverState& bs, std::int64_t offset, int bytes) {
  check_request_limits(bs, RequestKind::kDiscard, static_cast<std::uint64_t>(offset), static_cast<std::uint64_t>(bytes));
  check_node_writable(bs, RequestKind::kDiscard);
  const std::int64_t cs = options_.cluster_size;
  if (offset % cs != 0 || bytes % cs != 0) {
    kProbeCowDiscardUnaligned.hit();
    co_return -ENOTSUP;
  }
  co_await lock_.lock();
  int ret = 0;
  for (std::int64_t c = offset / cs; c < (offset + bytes) / cs && ret == 0; ++c) {
    map_[static_cast<std::size_t>(c)] = Entry{};
    ret = co_await write_entry(bs, c);
  }
  lock_.unlock();
  co_return ret;
}

sim::Task<std::int64_t> CowFormat::co_get_block_status(engine::BlockDriverState& bs, std::int64_t sector_num,
                                                       int nb_sectors, int* pnum, engine::BlockDriverState** file) {
  check_block_status_call(bs, sector_num, nb_sectors);
  const std::int64_t cs = options_.cluster_size;
  const std::int64_t sectors_per_cluster = cs / BDRV_SECTOR_SIZE;
  const std::int64_t first = sector_num / sectors_per_cluster;
  const Entry head = map_[static_cast<std::size_t>(first)];
  // Extend over following clusters in the same state (contiguous on the host for data).
  std::int64_t n = (first + 1) * sectors_per_cluster - sector_num;
  for (std::int64_t c = first + 1; n < nb_sectors && c < static_cast<std::int64_t>(map_.size()); ++c) {
    const Entry e = map_[static_cast<std::size_t>(c)];
    const bool same = e.state == head.state && (head.state != State::kData || e.host_offset == head.host_offset + (c - first) * cs);
    if (!same) break;
    kProbeCowStatusRun.hit();
    n += sectors_per_cluster;
  }
  *pnum = static_cast<int>(std::min<std::int64_t>(n, nb_sectors));
  switch (head.state) {
    case State::kZero: co_return engine::BDRV_BLOCK_ZERO;
    case State::kUnallocated: co_return 0;
    case State::kData:
      *file = data_child(bs).bs;
      co_return engine::BDRV_BLOCK_DATA | engine::BDRV_BLOCK_OFFSET_VALID |
          (head.host_offset + (sector_num % sectors_per_cluster) * BDRV_SECTOR_SIZE);
  }
  co_return 0;
}

}  // namespace drivers
