// cow: a clustered copy-on-write format with an optional backing file, a small
// cousin of qcow2. Each guest cluster is unallocated (reads through to the
// backing file, or zeroes), zero, or data stored in a host cluster of the file
// child. A partial write to an unallocated cluster copies the rest of the
// cluster from the backing file first. The cluster map lives in memory.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/block_driver.h"
#include "sim/co_mutex.h"

namespace drivers {

class CowFormat final : public engine::BlockDriver {
 public:
  static constexpr std::int64_t kMinClusterSize = 512;
  static constexpr std::int64_t kMaxClusterSize = 2 * 1024 * 1024;

  CowFormat(std::int64_t virtual_size, std::int64_t cluster_size);

  std::string_view format_name() const override { return "cow"; }
  std::uint32_t ops() const override;
  std::int64_t getlength(const engine::BlockDriverState&) const override { return virtual_size_; }
  sim::Task<int> co_preadv(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                           engine::IoVector& qiov, unsigned flags) override;
  sim::Task<int> co_pwritev(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                            engine::IoVector& qiov, unsigned flags) override;
  sim::Task<int> co_pwrite_zeroes(engine::BlockDriverState& bs, std::int64_t offset, int bytes,
                                  unsigned flags) override;
  sim::Task<int> co_pdiscard(engine::BlockDriverState& bs, std::int64_t offset, int bytes) override;
  sim::Task<std::int64_t> co_get_block_status(engine::BlockDriverState& bs, std::int64_t sector_num, int nb_sectors,
                                              int* pnum, engine::BlockDriverState** file) override;
  void refresh_limits(engine::BlockDriverState& bs) override;
  int get_info(engine::BlockDriverState& bs, engine::BlockDriverInfo* bdi) override;

  enum class State : std::uint8_t { kUnallocated, kZero, kData };
  State cluster_state(std::int64_t cluster) const { return map_[static_cast<std::size_t>(cluster)].state; }
  std::int64_t cluster_size() const { return cluster_size_; }
  std::uint64_t allocations() const { return allocations_; }

 private:
  struct Entry {
    State state = State::kUnallocated;
    std::int64_t host_offset = 0;  // for kData
  };
  // The current guest-visible content of one whole cluster, into `buf`.
  sim::Task<int> read_cluster(engine::BlockDriverState& bs, std::int64_t cluster, std::vector<std::uint8_t>& buf);
  // Reads [offset, offset + bytes) of an unallocated range from the backing file.
  sim::Task<int> read_backing(engine::BlockDriverState& bs, std::int64_t offset, std::int64_t bytes,
                              engine::IoVector& qiov, std::size_t qiov_offset);

  std::int64_t virtual_size_;
  std::int64_t cluster_size_;
  std::vector<Entry> map_;
  std::int64_t next_host_offset_ = 0;
  std::uint64_t allocations_ = 0;
  sim::CoMutex lock_;  // serialises cluster allocation
};

}  // namespace drivers
