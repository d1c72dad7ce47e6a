// libFuzzer harness: ucall::decode_mmio on a fuzzed guest memory image and a fuzzed MMIO
// exit (GPA, size, direction, datum = slot pointer). Every guest pointer must be followed
// through GuestMemory's checked accessors: a GuestMemoryErrorEvent is the expected
// answer to a bad one; an over-read (ASan) or a decoded event that claims more than the
// guest wrote is a finding. describe() is run on every event too (it prints guest text).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/event.h"
#include "fuzz/fuzz_memory.h"
#include "fuzz/image_invariants.h"
#include "ucall/host/ucall_decoder.h"

using namespace tdsim;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const TdImage& img = fuzz::fuzz_image();
  MmioEvent exit;
  exit.vcpu = in.ConsumeIntegral<uint32_t>();
  const bool at_ucall = in.ConsumeBool();
  exit.gpa = at_ucall ? img.ucall_mmio_gpa : fuzz::steered_gpa(in.ConsumeIntegral<uint8_t>(), in.ConsumeIntegral<uint64_t>());
  exit.len = at_ucall ? 8 : in.ConsumeIntegral<uint32_t>();
  exit.is_write = at_ucall || in.ConsumeBool();
  const uint8_t sel = in.ConsumeIntegral<uint8_t>();
  exit.data = fuzz::steered_gpa(sel, in.ConsumeIntegral<uint64_t>());
  if (in.ConsumeBool()) exit.data |= img.shared_bit;
  const std::vector<uint8_t> image = in.ConsumeRemainingBytes<uint8_t>();
  fuzz::fill_memory(image);

  const Event ev = ucall::decode_mmio(fuzz::fuzz_memory(), exit, img.ucall_mmio_gpa, img.shared_bit);
  fuzz::require(!describe(ev).empty(), "describe() says something");
  // A datum of 0 is "no ucall": it passes through like any other MMIO write.
  if (!ucall::is_ucall_exit(exit, img.ucall_mmio_gpa) || exit.data == 0) {
    fuzz::require(std::holds_alternative<MmioEvent>(ev), "non-ucall exits pass through");
    return 0;
  }
  if (const auto* u = std::get_if<UcallEvent>(&ev)) {
    fuzz::require(u->slot_gpa == (exit.data & ~img.shared_bit), "slot is the untagged datum");
    fuzz::require(u->cmd <= abi::kUcallCmdMax, "known command");
    fuzz::require(u->text.size() < abi::kUcallBufferLen, "text shorter than the buffer");
    fuzz::require(u->text.find('\0') == std::string::npos, "text stops at the NUL");
    abi::Ucall uc;
    fuzz::require(fuzz::fuzz_memory().read(u->slot_gpa, &uc, sizeof uc), "slot is guest memory");
    for (uint64_t a = u->slot_gpa; a < u->slot_gpa + sizeof uc; a += 0x1000) {
      const GuestMemory::Block* b = fuzz::fuzz_memory().block_containing(a);
      fuzz::require(b && b->region->shared, "a decoded slot lies in shared memory");
    }
    const GuestMemory::Block* last = fuzz::fuzz_memory().block_containing(u->slot_gpa + sizeof uc - 1);
    fuzz::require(last && last->region->shared, "a decoded slot lies in shared memory");
    fuzz::require(std::memcmp(u->args.data(), uc.args, sizeof uc.args) == 0, "args copied verbatim");
    if (u->assertion) {
      fuzz::require(u->cmd == abi::kUcallAbort, "assertion only on ABORT");
      fuzz::require(u->assertion->expr.size() <= 4096 && u->assertion->file.size() <= 4096, "strings bounded");
    }
  } else {
    const auto* m = std::get_if<GuestMemoryErrorEvent>(&ev);
    fuzz::require(m != nullptr, "a ucall exit gives a UcallEvent or a GuestMemoryErrorEvent");
    fuzz::require(!m->what.empty() && m->size > 0, "memory error names what and a size");
  }
  return 0;
}
