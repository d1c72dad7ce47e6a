// Ucalls whose strings the host must not trust: vCPU 0 an ABORT with a wild file
// pointer, vCPU 1 an ABORT whose file string has no NUL within the host's limit,
// vCPU 2 a PRINTF whose buffer is full with no NUL. Slots are filled by hand.
#include "tests/hostile/hostile_keys.h"
#include "ucall/guest/guest.h"

namespace hk = tdsim::test::hostile;
using tdsim::abi::Ucall;

namespace {
char g_long[hk::kLongStringLen + 64];
const char kExpr[] = "hostile";
}  // namespace

extern "C" void guest_main(uint32_t vcpu) {
  auto* pool = reinterpret_cast<tdsim::abi::UcallPool*>(tdsim::guest::ucall_pool_gva());
  Ucall* uc = &pool->slots[vcpu];
  uc->cmd = vcpu == 2 ? tdsim::abi::kUcallPrintf : tdsim::abi::kUcallAbort;
  memset(uc->buffer, vcpu == 2 ? 'P' : 0, sizeof uc->buffer);
  if (vcpu != 2) memcpy(uc->buffer, "msg", 4);
  memset(g_long, 'L', sizeof g_long);
  uc->args[tdsim::abi::kAssertArgExpr] = reinterpret_cast<uint64_t>(kExpr);
  uc->args[tdsim::abi::kAssertArgFile] = vcpu == 0 ? hk::kWildFilePointer : reinterpret_cast<uint64_t>(g_long);
  uc->args[tdsim::abi::kAssertArgLine] = 7;
  if (vcpu < 3) tdsim::guest::ucall_send(uc->self);
  tdsim::guest::halt_forever();
}
