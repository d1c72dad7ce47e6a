// kStormCount TDCALLs of a leaf the TDX module does not implement, back to back: each is
// rejected (RAX = TDX_OPERAND_INVALID) without stopping the vCPU. Then DONE.
#include "tests/hostile/hostile_keys.h"
#include "ucall/guest/guest.h"

namespace hk = tdsim::test::hostile;

extern "C" void guest_main(uint32_t) {
  uint64_t rax = 0, n = 0;
  for (; n < hk::kStormCount; ++n) {
    rax = hk::kStormLeaf;
    uint64_t rcx = 0;
    asm volatile(".byte 0x66, 0x0f, 0x01, 0xcc" : "+a"(rax), "+c"(rcx)::"rdx", "r8", "r9", "r10", "r11", "memory");
  }
  GUEST_SYNC_ARGS(hk::kStormDone, n, rax);
  GUEST_DONE();
}
