// Self-modifying guest code: calls a function (so its translation is cached), rewrites
// the immediate of its `mov eax, imm32` in .text, calls it again. A backend that runs
// stale code reports 1 twice.
#include "tests/hostile/hostile_keys.h"
#include "ucall/guest/guest.h"

namespace hk = tdsim::test::hostile;

extern "C" int smc_value();
// mov eax, 1 (B8 01 00 00 00); ret. The immediate starts one byte in.
asm(".pushsection .text\n.globl smc_value\nsmc_value:\n.byte 0xb8, 1, 0, 0, 0\nret\n.popsection\n");

extern "C" void guest_main(uint32_t) {
  const int before = smc_value();
  volatile uint8_t* imm = reinterpret_cast<volatile uint8_t*>(&smc_value) + 1;
  *imm = 2;
  const int after = smc_value();
  GUEST_SYNC_ARGS(hk::kSmcResult, before, after);
  GUEST_DONE();
}
