// Syncs once, then never finishes: the run must end by its instruction or time budget.
#include "ucall/guest/guest.h"

extern "C" void guest_main(uint32_t) {
  GUEST_SYNC(1);
  for (;;) asm volatile("" ::: "memory");
}
