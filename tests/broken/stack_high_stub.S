/* A deliberately broken user stub: the built-in one, except that once in 64-bit mode
   it moves the stack 4 GiB up (a stub author adding a "high base" to esp_gva). Nothing
   maps the guest's stack there, so the guest's first push must take a #PF on the stack;
   the report must point at the stack, not at the guest. */
#define BREAK_STACK_HIGH 1
#include "boot_stub_variant.S"
