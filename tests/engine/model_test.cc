// Sequential operations under unusual limits, checked against a flat model of
// the disk: an alignment matrix in the style of qemu-iotests 177, and a
// RapidCheck property over random limits and random operation sequences (which
// shrinks a failure to a minimal sequence). Every request the driver sees is
// also checked against the node's limits.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>
#include <sstream>

#include "engine/io.h"
#include "graph.h"

using testing::Graph;
using namespace engine;

namespace {

constexpr std::size_t kDiskBytes = 256 * 1024;

struct Limits {
  drivers::MemConfig::Style style = drivers::MemConfig::Style::kBytes;
  std::uint32_t align = 1;
  std::uint32_t max_transfer = 0;
  std::uint32_t zero_align = 0;
  std::int32_t max_zero = 0;
  std::uint32_t discard_align = 0;
  std::int32_t max_discard = 0;
  bool write_zeroes = true;
  bool discard = true;
  bool unmap = true;
};

struct Op {
  enum Kind { kWrite, kZero, kZeroUnmap, kDiscard, kFlush, kRead } kind;
  std::uint32_t offset;
  std::uint32_t bytes;
  std::uint8_t pattern;
};

std::string describe(const Limits& l) {
  std::ostringstream o;
  o << "style " << static_cast<int>(l.style) << " align " << l.align << " max_transfer " << l.max_transfer
    << " zero_align " << l.zero_align << " max_zero " << l.max_zero << " discard_align " << l.discard_align
    << " max_discard " << l.max_discard << " write_zeroes " << l.write_zeroes << " discard " << l.discard << " unmap "
    << l.unmap;
  return o.str();
}

std::string describe(const Op& op) {
  static const char* kNames[] = {"write", "write -z", "write -z -u", "discard", "flush", "read"};
  std::ostringstream o;
  o << kNames[op.kind] << " " << op.offset << " " << op.bytes;
  if (op.kind == Op::kWrite) o << " -P " << int(op.pattern);
  return o.str();
}

// Runs the sequence; returns an empty string or what went wrong.
std::string run_sequence(const Limits& l, const std::vector<Op>& ops, std::uint64_t seed) {
  drivers::MemConfig cfg;
  cfg.style = l.style;
  cfg.latency = {0, 3000};
  cfg.limits.request_alignment = l.align;
  cfg.limits.max_transfer = l.max_transfer;
  cfg.limits.pwrite_zeroes_alignment = l.zero_align;
  cfg.limits.max_pwrite_zeroes = l.max_zero;
  cfg.limits.pdiscard_alignment = l.discard_align;
  cfg.limits.max_pdiscard = l.max_discard;
  cfg.write_zeroes = l.write_zeroes;
  cfg.discard = l.discard;
  Graph g(seed, "random");
  auto& bs = g.mem("disk", kDiskBytes, cfg);
  auto& child = g.root(bs);
  if (l.unmap) bs.open_flags |= BDRV_O_UNMAP;
  std::vector<std::uint8_t> model(kDiskBytes, 0);

  for (const Op& op : ops) {
    const std::size_t first_op = g.ops.size();
    int ret = 0;
    switch (op.kind) {
      case Op::kWrite:
        ret = g.write(child, op.offset, op.bytes, op.pattern);
        std::fill_n(model.begin() + op.offset, op.bytes, op.pattern);
        break;
      case Op::kZero:
      case Op::kZeroUnmap:
        ret = bdrv_pwrite_zeroes(child, op.offset, static_cast<int>(op.bytes),
                                 op.kind == Op::kZeroUnmap ? BDRV_REQ_MAY_UNMAP : 0u);
        std::fill_n(model.begin() + op.offset, op.bytes, 0);
        break;
      case Op::kDiscard:
        ret = bdrv_pdiscard(bs, op.offset, static_cast<int>(op.bytes));
        // mem discards any range it is given: with unmap, the range reads as zeroes.
        if (l.unmap && l.discard) std::fill_n(model.begin() + op.offset, op.bytes, 0);
        break;
      case Op::kFlush:
        ret = bdrv_flush(bs);
        break;
      case Op::kRead: {
        int rret = 0;
        auto got = g.read(child, op.offset, op.bytes, &rret);
        ret = rret;
        if (ret == 0 && !std::equal(got.begin(), got.end(), model.begin() + op.offset)) {
          return describe(op) + ": read data differs from the model";
        }
        break;
      }
    }
    if (ret < 0) return describe(op) + ": failed with " + std::to_string(ret);
    if (!g.world.verdict().ok()) return describe(op) + ": " + g.world.verdict().message;
    // Every driver request of this operation respects the node's limits.
    const std::uint32_t a = bs.bl.request_alignment;
    for (std::size_t i = first_op; i < g.ops.size(); ++i) {
      const auto& d = g.ops[i];
      std::ostringstream where;
      where << describe(op) << ": driver " << d.op << " " << d.offset << "+" << d.bytes;
      if (d.op == "preadv" || d.op == "pwritev") {
        if (d.offset % a != 0 || d.bytes % a != 0) return where.str() + " not aligned to " + std::to_string(a);
        if (l.max_transfer != 0 && d.bytes > l.max_transfer / a * a) return where.str() + " above max_transfer";
      } else if (d.op == "pwrite_zeroes") {
        if (d.offset % a != 0 || d.bytes % a != 0) return where.str() + " not aligned to " + std::to_string(a);
        if (l.max_zero != 0 && d.bytes > static_cast<std::uint64_t>(l.max_zero)) return where.str() + " above max_pwrite_zeroes";
        const std::uint64_t za = std::max(l.zero_align, a);
        if (d.offset % za != 0 && d.offset / za != (d.offset + d.bytes - 1) / za) {
          return where.str() + " unaligned and crossing a zero-alignment boundary";
        }
      } else if (d.op == "pdiscard") {
        if (l.max_discard != 0 && d.bytes > static_cast<std::uint64_t>(l.max_discard)) return where.str() + " above max_pdiscard";
        const std::uint64_t da = std::max(l.discard_align, a);
        if (d.offset % da != 0 && d.offset / da != (d.offset + d.bytes - 1) / da) {
          return where.str() + " unaligned and crossing a discard-alignment boundary";
        }
      }
    }
    if (!Graph::idle(bs)) return describe(op) + ": node not idle afterwards";
  }
  if (!std::equal(model.begin(), model.end(), g.mem_driver().contents().begin())) return "final image differs from the model";
  return "";
}

}  // namespace

TEST_CASE("alignment matrix (qemu-iotests 177 style): every request shape under unusual limits") {
  // 177 uses align 512, max-transfer 64k, and 15M write-zero/discard limits;
  // here a grid of alignments and limits around those shapes.
  const std::vector<std::uint32_t> aligns = {1, 512, 4096};
  int configurations = 0;
  for (std::uint32_t align : aligns) {
    for (std::uint32_t mt_blocks : {0u, 3u, 16u}) {
      for (std::uint32_t zone : {0u, 4u}) {  // zero/discard alignment in blocks of max(align, 512)
        for (bool supported : {true, false}) {
          Limits l;
          l.align = align;
          const std::uint32_t block = std::max(align, 512u);
          l.max_transfer = mt_blocks * block;
          l.zero_align = zone * block;
          l.max_zero = zone != 0 ? static_cast<std::int32_t>(zone * block * 3) : 0;
          l.discard_align = zone * block;
          l.max_discard = zone != 0 ? static_cast<std::int32_t>(zone * block * 2) : 0;
          l.write_zeroes = supported;
          l.discard = supported;
          std::vector<Op> ops;
          // Shapes: aligned, unaligned head, unaligned tail, inside one block, spanning many blocks.
          const std::uint32_t b = std::max(align, 512u);
          const std::vector<std::pair<std::uint32_t, std::uint32_t>> shapes = {
              {0, 4 * b}, {b / 2 + 1, 3 * b}, {2 * b, 3 * b + 7}, {5 * b + 3, b / 3 + 1}, {b + 5, 40 * b + 11}};
          std::uint8_t pattern = 1;
          for (auto [off, len] : shapes) {
            ops.push_back({Op::kWrite, off, len, pattern++});
            ops.push_back({Op::kRead, 0, 64 * b, 0});
          }
          for (auto [off, len] : shapes) {
            ops.push_back({Op::kZero, off, len, 0});
            ops.push_back({Op::kWrite, off + len / 2, len / 2 + 1, pattern++});
            ops.push_back({Op::kZeroUnmap, off + 1, len, 0});
            ops.push_back({Op::kDiscard, off, len, 0});
            ops.push_back({Op::kFlush, 0, 0, 0});
            ops.push_back({Op::kRead, 0, 64 * b, 0});
          }
          INFO(describe(l));
          CHECK(run_sequence(l, ops, static_cast<std::uint64_t>(configurations)) == "");
          ++configurations;
        }
      }
    }
  }
  CHECK(configurations == 36);
}

TEST_CASE("random operation sequences under random limits match a flat disk model") {
  rc::prop("sequential operations leave the disk equal to the model", [] {
    Limits l;
    l.style = *rc::gen::element(drivers::MemConfig::Style::kBytes, drivers::MemConfig::Style::kSectors,
                                drivers::MemConfig::Style::kCallbacks);
    const int min_shift = l.style == drivers::MemConfig::Style::kBytes ? 0 : 9;
    l.align = 1u << *rc::gen::resize(100, rc::gen::inRange(min_shift, 17));  // 1 .. 64K
    const std::uint32_t block = std::max(l.align, 512u);
    l.max_transfer = *rc::gen::element(0u, 1u, 2u, 5u) * block;
    l.zero_align = *rc::gen::element(0u, 1u, 2u, 8u) * l.align;
    const std::uint32_t zunit = std::max(l.zero_align, l.align);
    l.max_zero = static_cast<std::int32_t>(*rc::gen::element(0u, 1u, 3u) * zunit);
    l.discard_align = *rc::gen::element(0u, 1u, 4u) * l.align;
    const std::uint32_t dunit = std::max(l.discard_align, l.align);
    l.max_discard = static_cast<std::int32_t>(*rc::gen::element(0u, 1u, 2u) * dunit);
    l.write_zeroes = *rc::gen::arbitrary<bool>();
    l.discard = *rc::gen::arbitrary<bool>();
    l.unmap = *rc::gen::arbitrary<bool>();
    const auto ops = *rc::gen::resize(
        20, rc::gen::container<std::vector<Op>>(rc::gen::apply(
                [](int kind, std::uint32_t off, std::uint32_t len, std::uint8_t pattern) {
                  off %= kDiskBytes;
                  len = 1 + len % std::min<std::uint32_t>(65536, kDiskBytes - off);
                  return Op{static_cast<Op::Kind>(kind), off, len, static_cast<std::uint8_t>(pattern | 1)};
                },
                // Resized: gen::inRange and arbitrary are size-scaled, and early
                // cases would otherwise be all writes at offset 0.
                rc::gen::resize(100, rc::gen::inRange(0, 6)), rc::gen::resize(100, rc::gen::arbitrary<std::uint32_t>()),
                rc::gen::resize(100, rc::gen::arbitrary<std::uint32_t>()), rc::gen::arbitrary<std::uint8_t>())));
    const auto seed = *rc::gen::inRange<std::uint64_t>(0, 1000);
    const std::string failure = run_sequence(l, ops, seed);
    if (!failure.empty()) {
      std::string seq;
      for (const Op& op : ops) seq += describe(op) + "; ";
      RC_FAIL(describe(l) + " | " + seq + " => " + failure);
    }
  });
}
