// VM state save/load: the driver's own area, else the file child's.
#include "engine/driver_calls.h"
#include "engine/io.h"
#include "sim/invariant.h"
#include "sim/world.h"

namespace engine {

sim::Task<int> bdrv_co_rw_vmstate(BlockDriverState& bs, IoVector& qiov, std::int64_t pos, bool is_read) {
  int ret = -ENOTSUP;
  bdrv_inc_in_flight(bs);
  BlockDriver* drv = bs.drv();
  if (drv == nullptr) {
    ret = -ENOMEDIUM;
  } else if (drv->implements(kVmstate)) {
    if (is_read) {
      ret = co_await drv->load_vmstate(bs, qiov, pos);
    } else {
      ret = co_await drv->save_vmstate(bs, qiov, pos);
    }
  } else if (bs.file != nullptr) {
    ret = co_await bdrv_co_rw_vmstate(*bs.file->bs, qiov, pos, is_read);
  }
  bdrv_dec_in_flight(bs);
  co_return ret;
}

}  // namespace engine
