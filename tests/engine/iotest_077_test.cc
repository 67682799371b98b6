// qemu-iotests 077 ("concurrent pread/pwrite"), transcribed: unaligned writes on
// a 4 KiB-aligned node are held at blkdebug breakpoints on the read-modify-write
// events while overlapping writes arrive, then released; the final image is
// checked byte by byte with 077's own verification reads. Run under several
// schedules: serialisation must make the result independent of them.
#include <catch2/catch.hpp>
#include <sstream>

#include "engine/io.h"
#include "graph.h"

using testing::Graph;
using namespace engine;

namespace {

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::uint64_t num(const std::string& s) { return std::stoull(s, nullptr, 0); }

// Runs one 077 block of qemu-io commands; aio requests go in the background.
void run_block(Graph& g, BdrvChild& child, const std::vector<std::string>& lines) {
  drivers::Breakpoints& drv = g.fault_driver().breakpoints();
  int outstanding = 0;
  for (const std::string& line : lines) {
    auto w = words(line);
    INFO(line);
    if (w[0] == "break") {
      BlkdebugEvent ev;
      REQUIRE(blkdebug_event_from_name(w[1], &ev));
      drv.add(ev, w[2]);
    } else if (w[0] == "wait_break") {
      g.world.run_until([&] { return drv.suspended(w[1]); });
      REQUIRE(drv.suspended(w[1]));
    } else if (w[0] == "resume") {
      drv.resume(w[1]);
    } else if (w[0] == "sleep") {
      // qemu-io sleeps in milliseconds of real time; here: virtual time passes.
      const std::uint64_t until = g.world.now_ns() + num(w[1]) * 1000;
      g.world.main_context().timer_add(until, "sleep", [] {});
      g.world.run_until([&] { return g.world.now_ns() >= until; });
    } else if (w[0] == "aio_write") {
      REQUIRE(w[1] == "-P");
      const auto pattern = static_cast<std::uint8_t>(num(w[2]));
      const auto offset = static_cast<std::int64_t>(num(w[3]));
      const auto bytes = static_cast<std::size_t>(num(w[4]));
      ++outstanding;
      auto body = [](BdrvChild& c, std::uint8_t p, std::int64_t off, std::size_t n, int& left) -> sim::Task<void> {
        std::vector<std::uint8_t> buf(n, p);
        IoVector q(absl::MakeSpan(buf));
        int ret = co_await bdrv_co_pwritev(c, off, n, &q, 0);
        SIM_ASSERT(ret == 0, "077 write failed");
        --left;
      };
      g.world.spawn(g.world.main_context(), line, body(child, pattern, offset, bytes, outstanding));
      g.world.poll(g.world.main_context(), false);  // submitted now, as qemu-io does
    } else if (w[0] == "aio_flush") {
      g.world.run_until([&] { return outstanding == 0; });
      REQUIRE(outstanding == 0);
    } else {
      FAIL("unknown command");
    }
    REQUIRE(g.world.verdict().ok());
  }
}

const std::vector<std::vector<std::string>> kBlocks = {
    // A simple RMW request
    {"aio_write -P 10 0x200 0x200", "aio_flush"},
    // Sequential RMW requests on the same physical sector
    {"break pwritev_rmw_head A", "aio_write -P 10 0x1200 0x200", "wait_break A", "aio_write -P 11 0x1400 0x200",
     "sleep 100", "resume A", "aio_flush"},
    {"break pwritev_rmw_after_head A", "aio_write -P 10 0x2200 0x200", "wait_break A", "aio_write -P 11 0x2400 0x200",
     "sleep 100", "resume A", "aio_flush"},
    // Chained dependencies
    {"break pwritev_rmw_after_tail A", "aio_write -P 10 0x5000 0x200", "wait_break A", "aio_write -P 11 0x5200 0x200",
     "aio_write -P 12 0x5400 0x200", "aio_write -P 13 0x5600 0x200", "aio_write -P 14 0x5800 0x200",
     "aio_write -P 15 0x5a00 0x200", "aio_write -P 16 0x5c00 0x200", "aio_write -P 17 0x5e00 0x200", "sleep 100",
     "resume A", "aio_flush"},
    // Overlapping multiple requests
    {"break pwritev_rmw_after_tail A", "aio_write -P 10 0x6000 0x200", "wait_break A",
     "break pwritev_rmw_after_head B", "aio_write -P 10 0x7e00 0x200", "wait_break B", "aio_write -P 11 0x6800 0x1000",
     "resume A", "sleep 100", "resume B", "aio_flush"},
    {"break pwritev_rmw_after_tail A", "aio_write -P 10 0x8000 0x200", "wait_break A",
     "break pwritev_rmw_after_head B", "aio_write -P 10 0x9e00 0x200", "wait_break B", "aio_write -P 11 0x8800 0x1000",
     "resume B", "sleep 100", "resume A", "aio_flush"},
    {"break pwritev_rmw_after_tail A", "aio_write -P 10 0xa000 0x200", "wait_break A", "aio_write -P 11 0xa800 0x1000",
     "break pwritev_rmw_after_head B", "aio_write -P 10 0xbe00 0x200", "wait_break B", "resume A", "sleep 100",
     "resume B", "aio_flush"},
    {"break pwritev_rmw_after_tail A", "aio_write -P 10 0xc000 0x200", "wait_break A", "aio_write -P 11 0xc800 0x1000",
     "break pwritev_rmw_after_head B", "aio_write -P 10 0xde00 0x200", "wait_break B", "resume B", "sleep 100",
     "resume A", "aio_flush"},
    // Only RMW for the tail part
    {"break pwritev_rmw_after_tail A", "aio_write -P 10 0xe000 0x1800", "wait_break A", "aio_write -P 11 0xf000 0xc00",
     "sleep 100", "resume A", "aio_flush"},
    {"break pwritev A", "aio_write -P 10 0x10000 0x800", "wait_break A", "break pwritev_rmw_after_tail B",
     "aio_write -P 11 0x10000 0x400", "break pwritev_done C", "resume A", "wait_break C", "resume C", "sleep 100",
     "wait_break B", "resume B", "aio_flush"},
    {"break pwritev A", "aio_write -P 10 0x11000 0x800", "wait_break A", "aio_write -P 11 0x11000 0x1000", "sleep 100",
     "resume A", "aio_flush"},
};

// 077's verify_io: (pattern, offset, length).
const std::vector<std::tuple<int, std::size_t, std::size_t>> kVerify = {
    {0, 0, 0x200},        {10, 0x200, 0x200},   {0, 0x400, 0xc00},    {0, 0x1000, 0x200},   {10, 0x1200, 0x200},
    {11, 0x1400, 0x200},  {0, 0x1600, 0xa00},   {0, 0x2000, 0x200},   {10, 0x2200, 0x200},  {11, 0x2400, 0x200},
    {0, 0x2600, 0xa00},   {10, 0x5000, 0x200},  {11, 0x5200, 0x200},  {12, 0x5400, 0x200},  {13, 0x5600, 0x200},
    {14, 0x5800, 0x200},  {15, 0x5a00, 0x200},  {16, 0x5c00, 0x200},  {17, 0x5e00, 0x200},  {10, 0x6000, 0x200},
    {0, 0x6200, 0x600},   {11, 0x6800, 0x1000}, {0, 0x7800, 0x600},   {10, 0x7e00, 0x200},  {10, 0x8000, 0x200},
    {0, 0x8200, 0x600},   {11, 0x8800, 0x1000}, {0, 0x9800, 0x600},   {10, 0x9e00, 0x200},  {10, 0xa000, 0x200},
    {0, 0xa200, 0x600},   {11, 0xa800, 0x1000}, {0, 0xb800, 0x600},   {10, 0xbe00, 0x200},  {10, 0xc000, 0x200},
    {0, 0xc200, 0x600},   {11, 0xc800, 0x1000}, {0, 0xd800, 0x600},   {10, 0xde00, 0x200},  {10, 0xe000, 0x1000},
    {11, 0xf800, 0x400},  {0, 0xfc00, 0x400},   {11, 0x10000, 0x400}, {10, 0x10400, 0x400}, {11, 0x11800, 0x800},
};

}  // namespace

TEST_CASE("qemu-iotests 077: concurrent RMW requests held at breakpoints leave exactly 077's image") {
  for (const char* strategy : {"fifo", "random", "pct:3"}) {
    for (std::uint64_t seed = 0; seed < 4; ++seed) {
      drivers::MemConfig cfg = Graph::fast();
      cfg.latency = {1000, 20000};
      drivers::FaultConfig blkdebug;
      blkdebug.align = 4096;  // file.align=4k
      Graph g(seed, strategy);
      auto& file = g.mem("file", 0x20000, cfg);
      auto& bs = g.fault("blkdebug", file, blkdebug);
      auto& child = g.root(bs);
      for (const auto& block : kBlocks) run_block(g, child, block);
      g.world.run();
      INFO(strategy << " seed " << seed);
      REQUIRE(g.world.verdict().ok());
      const auto data = g.mem_driver().contents();
      for (const auto& [pattern, offset, length] : kVerify) {
        INFO("read -P " << pattern << " 0x" << std::hex << offset << " 0x" << length);
        CHECK(testing::all_equal(data, offset, offset + length, static_cast<std::uint8_t>(pattern)));
      }
      CHECK(g.count_waits("serialising") > 0);
      CHECK(g.idle(bs));
    }
  }
}
