// Builds a TdImage from one of the test guests with the default layout (what
// `tdsim run --guest <elf>` builds), for the gdb stub tests.
#pragma once
#include <cstring>

#include "bootstub/host/image_builder.h"
#include "tests/guests/test_assets.h"

namespace tdsim::gdbstub::test {

inline TdImage image_for(const char* elf_path, uint32_t nr_vcpus = 1) {
  LayoutSpec spec;
  spec.guest_elf = tdsim::test::read_asset(elf_path);
  spec.guest_elf_name = elf_path;
  spec.nr_vcpus = nr_vcpus;
  return build_image(spec);
}

// Every address in the guest ELF region holding TDCALL (66 0F 01 CC).
inline std::vector<uint64_t> tdcall_sites(const TdImage& image) {
  std::vector<uint64_t> out;
  const uint8_t tdcall[] = {0x66, 0x0f, 0x01, 0xcc};
  for (const Region& r : image.regions) {
    if (r.kind != RegionKind::kGuestElf) continue;
    for (size_t i = 0; i + 4 <= r.bytes.size(); ++i)
      if (std::memcmp(r.bytes.data() + i, tdcall, 4) == 0) out.push_back(r.gpa + i);
  }
  return out;
}

}  // namespace tdsim::gdbstub::test
