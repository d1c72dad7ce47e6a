// libFuzzer harness: fuzzed LayoutSpec fields (counts, widths, control registers,
// placement overrides, ucall MMIO GPA) and a fuzzed stub blob, with a well-formed
// synthetic guest ELF (tests/layout/test_elf.h). build_image() must either return an
// image meeting the layout invariants or throw a LayoutError naming a field.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "bootstub/host/image_builder.h"
#include "fuzz/image_invariants.h"
#include "tests/layout/test_elf.h"

namespace {

// Mostly near the values the rules care about (page multiples below 256 MiB), sometimes
// anything: the page tables for a full 4 GiB RAM cost milliseconds per input.
uint64_t address(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: return in.ConsumeIntegralInRange<uint64_t>(0, 0x10000) * 4096;
    case 1: return in.ConsumeIntegralInRange<uint64_t>(0, 256ull << 20);
    case 2: return 0xffff0000ull + in.ConsumeIntegralInRange<uint64_t>(0, 0x20000) - 0x10000;
    default: return in.ConsumeIntegral<uint64_t>();
  }
}

template <class T>
std::optional<T> maybe(FuzzedDataProvider& in, T value) {
  return in.ConsumeBool() ? std::optional<T>(value) : std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  static const std::vector<uint8_t> elfs[4] = {
      tdsim::layouttest::simple_guest(false, false).build(), tdsim::layouttest::simple_guest(true, false).build(),
      tdsim::layouttest::simple_guest(false, true).build(), tdsim::layouttest::simple_guest(true, true).build()};

  tdsim::LayoutSpec spec;
  spec.guest_elf = elfs[in.ConsumeIntegralInRange<int>(0, 3)];
  if (in.ConsumeBool()) spec.mem_size = in.ConsumeBool() ? address(in) : in.ConsumeIntegralInRange<uint64_t>(1, 64) << 20;
  spec.nr_vcpus = in.ConsumeIntegralInRange<uint32_t>(0, 70);
  spec.gpaw = in.ConsumeBool() ? (in.ConsumeBool() ? 52 : 48) : in.ConsumeIntegral<uint32_t>();
  spec.init_rcx = in.ConsumeIntegral<uint64_t>();
  spec.cr0 = maybe(in, in.ConsumeIntegral<uint32_t>());
  spec.cr4 = maybe(in, in.ConsumeIntegral<uint32_t>());
  spec.page_tables_gpa = maybe(in, address(in));
  spec.stacks_gpa = maybe(in, address(in));
  spec.ucall_pool_gpa = maybe(in, address(in));
  spec.ucall_mmio_gpa = maybe(in, address(in));
  spec.stub = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 140));
  spec.stub_name = "fuzz.bin";
  try {
    const tdsim::TdImage img = tdsim::build_image(spec);
    tdsim::fuzz::check_image_invariants(img, spec);
  } catch (const tdsim::LayoutError& e) {
    tdsim::fuzz::require(!e.field().empty(), "LayoutError names a field");
  }
  return 0;
}
