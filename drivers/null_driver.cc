#include "drivers/null_driver.h"

#include "sim/world.h"

namespace drivers {

sim::DelayAwaiter NullDriver::wait() {
  ++requests_;
  return sim::co_delay_ns(config_.latency_ns, "null latency");
}

sim::Task<int> NullDriver::co_preadv(engine::BlockDriverState&, std::uint64_t, std::uint64_t bytes,
                                     engine::IoVector& qiov, unsigned) {
  co_await wait();
  if (config_.read_zeroes) qiov.memset(0, 0, bytes);
  co_return 0;
}

sim::Task<int> NullDriver::co_pwritev(engine::BlockDriverState&, std::uint64_t, std::uint64_t, engine::IoVector&,
                                      unsigned) {
  co_await wait();
  co_return 0;
}

sim::Task<int> NullDriver::co_flush_to_disk(engine::BlockDriverState&) {
  co_await wait();
  co_return 0;
}

}  // namespace drivers
