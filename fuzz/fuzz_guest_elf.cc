// libFuzzer harness: the whole input is the guest ELF handed to build_image() (libelf
// parsing, segment checks, placement, symbol patching). A LayoutError is the expected
// answer to bad input; anything else escaping, a sanitizer report, or a built image that
// breaks the layout invariants is a finding.
#include <cstddef>
#include <cstdint>

#include "bootstub/host/image_builder.h"
#include "fuzz/image_invariants.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tdsim::LayoutSpec spec;
  // Half the default RAM: same rules, half the page-table work per input.
  spec.mem_size = 16ull << 20;
  spec.guest_elf.assign(data, data + size);
  spec.guest_elf_name = "fuzz.elf";
  try {
    const tdsim::TdImage img = tdsim::build_image(spec);
    tdsim::fuzz::check_image_invariants(img, spec);
  } catch (const tdsim::LayoutError& e) {
    tdsim::fuzz::require(e.what()[0] != '\0', "LayoutError has a message");
  }
  return 0;
}
