// Block status: what a range of sectors holds (data, zeroes, unallocated) and
// where it lives, through RAW pass-through layers, the file below a format, and
// the backing chain.
#include <algorithm>

#include "engine/driver_calls.h"
#include "engine/io.h"
#include "engine/mutations.h"
#include "sim/invariant.h"
#include "sim/probe.h"

namespace engine {

namespace {
// Code probes (sim/probe.h).
const sim::Probe kProbeStatusPastEnd("status.past_end", "block status asked at or past the node's end (BDRV_BLOCK_EOF, no length)");
const sim::Probe kProbeStatusNoDriver("status.driver_has_none", "a driver without block status: everything allocated data");
const sim::Probe kProbeStatusFailed("status.driver_failed", "a driver's block status failed");
const sim::Probe kProbeStatusRaw("status.raw_passthrough", "a pass-through layer sent block status to the node below (BDRV_BLOCK_RAW)");
const sim::Probe kProbeStatusUnallocatedZero("status.unallocated_reads_zero", "an unallocated range of a node without backing reads as zeroes");
const sim::Probe kProbeStatusPastBacking("status.past_backing_end", "an unallocated range past the end of a shorter backing file reads as zeroes");
const sim::Probe kProbeStatusRefined("status.refined_by_file", "the protocol layer below refined a format's answer");
const sim::Probe kProbeStatusRefineFailed("status.refine_failed", "the protocol layer's refinement failed and was ignored");
const sim::Probe kProbeStatusRefinePastEof("status.refine_past_eof", "data a format maps past the end of its file reads as zeroes");
const sim::Probe kProbeStatusAboveDescended("status.above_descended", "block status looked below an unallocated range into the backing chain");
const sim::Probe kProbeStatusAboveEofExtended("status.above_eof_extended", "zeroes past a backing file's end stretched to the unallocated length above");
const sim::Probe kProbeAllocatedAboveLowerEnd("allocated_above.lower_image_ends", "is_allocated_above kept a length that reaches past a lower image's end");
}  // namespace

void inherit_request_flags(BlockDriverState& bs) {
  SIM_CHECK("inherit_request_flags.has_file", bs.file != nullptr, "a pass-through node without its file child");
  bs.supported_write_flags = BDRV_REQ_FUA & bs.file->bs->supported_write_flags;
  bs.supported_zero_flags = (BDRV_REQ_FUA | BDRV_REQ_MAY_UNMAP) & bs.file->bs->supported_zero_flags;
}

std::int64_t bdrv_co_get_block_status_from_file(BlockDriverState& bs, std::int64_t sector_num, int nb_sectors,
                                                int* pnum, BlockDriverState** file) {
  SIM_CHECK("block_status_from_file.has_file", bs.file != nullptr, "block status from a missing file child");
  *pnum = nb_sectors;
  *file = bs.file->bs;
  return BDRV_BLOCK_RAW | BDRV_BLOCK_OFFSET_VALID | (sector_num << BDRV_SECTOR_BITS);
}

std::int64_t bdrv_co_get_block_status_from_backing(BlockDriverState& bs, std::int64_t sector_num, int nb_sectors,
                                                   int* pnum, BlockDriverState** file) {
  SIM_CHECK("block_status_from_backing.has_backing", bs.backing != nullptr,
            "block status from a missing backing child");
  *pnum = nb_sectors;
  *file = bs.backing->bs;
  return BDRV_BLOCK_RAW | BDRV_BLOCK_OFFSET_VALID | (sector_num << BDRV_SECTOR_BITS);
}

// Drivers without block status have no backing files: everything is allocated
// data. A sector at or past the end is BDRV_BLOCK_EOF with *pnum 0; a range
// reaching the end carries BDRV_BLOCK_EOF too.
sim::Task<std::int64_t> bdrv_co_get_block_status(BlockDriverState& bs, std::int64_t sector_num, int nb_sectors,
                                                 int* pnum, BlockDriverState** file) {
  *file = nullptr;
  const std::int64_t total_sectors = bdrv_nb_sectors(bs);
  if (total_sectors < 0) co_return total_sectors;
  if (sector_num >= total_sectors) {
    kProbeStatusPastEnd.hit();
    *pnum = 0;
    co_return BDRV_BLOCK_EOF;
  }
  if (nb_sectors == 0) {
    *pnum = 0;
    co_return 0;
  }
  const std::int64_t n = total_sectors - sector_num;
  if (n < nb_sectors) nb_sectors = static_cast<int>(n);

  BlockDriver& drv = *bs.drv();
  if (!drv.implements(kCoGetBlockStatus)) {
    kProbeStatusNoDriver.hit();
    *pnum = nb_sectors;
    std::int64_t ret = BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED;
    if (sector_num + nb_sectors == total_sectors) ret |= BDRV_BLOCK_EOF;
    if (!drv.protocol_name().empty()) {
      ret |= BDRV_BLOCK_OFFSET_VALID | (sector_num * BDRV_SECTOR_SIZE);
      *file = &bs;
    }
    co_return ret;
  }

  bdrv_inc_in_flight(bs);
  static sim::TraceLabel kBlockStatusOp("block_status");
  const DriverOpTrace t = trace_driver_issue(bs, kBlockStatusOp, static_cast<std::uint64_t>(sector_num) << BDRV_SECTOR_BITS,
                                             static_cast<std::uint64_t>(nb_sectors) << BDRV_SECTOR_BITS);
  std::int64_t ret = co_await drv.co_get_block_status(bs, sector_num, nb_sectors, pnum, file);
  trace_driver_complete(bs, t, ret < 0 ? static_cast<int>(ret) : 0);
  if (ret < 0) {
    kProbeStatusFailed.hit();
    *pnum = 0;
  } else if (ret & BDRV_BLOCK_RAW) {
    kProbeStatusRaw.hit();
    // A pass-through layer: ask the node it points at.
    SIM_CHECK("block_status.raw_has_offset", (ret & BDRV_BLOCK_OFFSET_VALID) && *file != nullptr,
              "BDRV_BLOCK_RAW without a valid offset and file");
    BlockDriverState* target = *file;
    ret = co_await bdrv_co_get_block_status(*target, ret >> BDRV_SECTOR_BITS, *pnum, pnum, file);
  } else {
    if (ret & (BDRV_BLOCK_DATA | BDRV_BLOCK_ZERO)) {
      ret |= BDRV_BLOCK_ALLOCATED;
    } else if (bdrv_unallocated_blocks_are_zero(bs)) {
      kProbeStatusUnallocatedZero.hit();
      ret |= BDRV_BLOCK_ZERO;
    } else if (bs.backing != nullptr) {
      // Past the end of a shorter backing file reads as zeroes.
      const std::int64_t nb_sectors2 = bdrv_nb_sectors(*bs.backing->bs);
      if (nb_sectors2 >= 0 && sector_num >= nb_sectors2) {
        kProbeStatusPastBacking.hit();
        ret |= BDRV_BLOCK_ZERO;
      }
    }
    if (*file != nullptr && *file != &bs && (ret & BDRV_BLOCK_DATA) && !(ret & BDRV_BLOCK_ZERO) &&
        (ret & BDRV_BLOCK_OFFSET_VALID)) {
      // Ask the protocol layer whether the data there is in fact zeroes.
      BlockDriverState* file2 = nullptr;
      int file_pnum = 0;
      BlockDriverState* target = *file;
      const std::int64_t ret2 =
          co_await bdrv_co_get_block_status(*target, ret >> BDRV_SECTOR_BITS, *pnum, &file_pnum, &file2);
      // Errors are ignored: this only refines the answer.
      if (ret2 < 0) kProbeStatusRefineFailed.hit();
      if (ret2 < 0 && mutated(Mutant::kRefinementErrorPassed)) ret = ret2;
      if (ret2 >= 0) {
        if ((ret2 & BDRV_BLOCK_EOF) && (file_pnum == 0 || (ret2 & BDRV_BLOCK_ZERO))) {
          // A format may read beyond the end of its file; that reads as zero.
          kProbeStatusRefinePastEof.hit();
          ret |= BDRV_BLOCK_ZERO;
        } else {
          // Limit the answer to the range the protocol layer reported.
          kProbeStatusRefined.hit();
          *pnum = file_pnum;
          ret |= (ret2 & BDRV_BLOCK_ZERO);
        }
      }
    }
  }
  bdrv_dec_in_flight(bs);
  if (ret >= 0 && sector_num + *pnum == total_sectors) ret |= BDRV_BLOCK_EOF;
  co_return ret;
}

sim::Task<std::int64_t> bdrv_co_get_block_status_above(BlockDriverState& bs, BlockDriverState* base,
                                                       std::int64_t sector_num, int nb_sectors, int* pnum,
                                                       BlockDriverState** file) {
  SIM_CHECK("block_status_above.bs_not_base", &bs != base, "block status above a node of itself");
  std::int64_t ret = 0;
  bool first = true;
  for (BlockDriverState* p = &bs; p != base; p = backing_bs(*p)) {
    SIM_CHECK("block_status_above.base_in_chain", p != nullptr, "base is not in the backing chain");
    ret = co_await bdrv_co_get_block_status(*p, sector_num, nb_sectors, pnum, file);
    if (ret < 0) break;
    if ((ret & BDRV_BLOCK_ZERO) && (ret & BDRV_BLOCK_EOF) && !first) {
      // Reading past the end keeps reading zeroes, but only over the unallocated
      // length an upper layer reported.
      kProbeStatusAboveEofExtended.hit();
      *pnum = nb_sectors;
    }
    if (ret & (BDRV_BLOCK_ZERO | BDRV_BLOCK_DATA)) break;
    // Unallocated here over [sector_num, *pnum): look below for that part.
    nb_sectors = std::min(nb_sectors, *pnum);
    if (backing_bs(*p) != base) kProbeStatusAboveDescended.hit();
    first = false;
  }
  co_return ret;
}

sim::Task<int> bdrv_co_is_allocated(BlockDriverState& bs, std::int64_t offset, std::int64_t bytes,
                                    std::int64_t* pnum) {
  SIM_CHECK("is_allocated.offset_sector_aligned", offset % BDRV_SECTOR_SIZE == 0, "is_allocated offset not in sectors");
  SIM_CHECK("is_allocated.bytes_sector_aligned", bytes % BDRV_SECTOR_SIZE == 0 && bytes < INT_MAX,
            "is_allocated length not in sectors or too large");
  BlockDriverState* file = nullptr;
  int psectors = 0;
  const std::int64_t ret = co_await bdrv_co_get_block_status_above(
      bs, backing_bs(bs), offset >> BDRV_SECTOR_BITS, static_cast<int>(bytes >> BDRV_SECTOR_BITS), &psectors, &file);
  if (ret < 0) co_return static_cast<int>(ret);
  if (pnum != nullptr) *pnum = std::int64_t{psectors} * BDRV_SECTOR_SIZE;
  co_return (ret & BDRV_BLOCK_ALLOCATED) ? 1 : 0;
}

sim::Task<int> bdrv_co_is_allocated_above(BlockDriverState& top, BlockDriverState* base, std::int64_t offset,
                                          std::int64_t bytes, std::int64_t* pnum) {
  std::int64_t n = bytes;
  for (BlockDriverState* intermediate = &top; intermediate != nullptr && intermediate != base;
       intermediate = backing_bs(*intermediate)) {
    std::int64_t pnum_inter = 0;
    const int ret = co_await bdrv_co_is_allocated(*intermediate, offset, bytes, &pnum_inter);
    if (ret < 0) co_return ret;
    if (ret != 0) {
      *pnum = pnum_inter;
      co_return 1;
    }
    const std::int64_t size_inter = bdrv_getlength(*intermediate);
    if (size_inter < 0) co_return static_cast<int>(size_inter);
    // An unallocated prefix shortens the answer, except where a lower image ends
    // before the range does (that part reads as zeroes from above).
    if (n > pnum_inter && (intermediate == &top || offset + pnum_inter < size_inter)) n = pnum_inter;
    if (n > pnum_inter && intermediate != &top && offset + pnum_inter >= size_inter) kProbeAllocatedAboveLowerEnd.hit();
  }
  *pnum = n;
  co_return 0;
}

}  // namespace engine
