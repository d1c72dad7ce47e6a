#include "ucall_decoder.h"

#include <fmt/format.h>

#include <cstring>

#include "tdsim/abi/ucall.h"

namespace tdsim::ucall {

namespace {

// Assert texts come from the guest's .rodata; anything longer is not a string we printed.
constexpr uint64_t kMaxAssertString = 4096;

GuestMemoryErrorEvent memory_error(uint32_t vcpu, uint64_t gpa, uint64_t size, std::string what) {
  return GuestMemoryErrorEvent{vcpu, gpa, size, std::move(what)};
}

std::string string_problem(GuestMemory::StringStatus st) {
  return st == GuestMemory::StringStatus::kOutOfRange ? "outside guest memory"
                                                      : "no NUL terminator";
}

}  // namespace

bool is_ucall_exit(const MmioEvent& exit, uint64_t ucall_mmio_gpa) {
  return exit.is_write && exit.len == 8 && exit.gpa == ucall_mmio_gpa;
}

Event decode_ucall(const GuestMemory& mem, const MmioEvent& exit, uint64_t shared_bit) {
  const uint32_t vcpu = exit.vcpu;
  if (exit.data == abi::kUcallFailed)
    return memory_error(vcpu, exit.data, sizeof(abi::Ucall),
                        "guest could not allocate a ucall slot (pool missing or full)");
  const uint64_t slot = exit.data & ~shared_bit;

  abi::Ucall uc;
  if (!mem.read(slot, &uc, sizeof uc))
    return memory_error(vcpu, slot, sizeof uc, "ucall struct outside guest memory");
  // The host of a real TD reads only shared memory: a slot in private memory would be
  // ciphertext there (and stale launch-time bytes on kvm-tdx), so no backend reads it.
  for (uint64_t at = slot; at < slot + sizeof uc;) {
    const GuestMemory::Block* b = mem.block_containing(at);
    if (!b) break;  // read() above proved the range is guest memory
    if (!b->region->shared)
      return memory_error(vcpu, slot, sizeof uc,
                          fmt::format("ucall struct at GPA {:#x} is in private memory (region '{}'): the host "
                                      "can read only shared memory",
                                      slot, b->region->name));
    at = b->gpa + b->size;
  }

  UcallEvent ev;
  ev.vcpu = vcpu;
  ev.slot_gpa = slot;
  ev.cmd = static_cast<abi::UcallCmd>(uc.cmd);
  std::memcpy(ev.args.data(), uc.args, sizeof uc.args);
  if (uc.cmd > abi::kUcallCmdMax)
    return memory_error(vcpu, slot, sizeof uc, fmt::format("unknown ucall command {}", uc.cmd));

  if (uc.cmd == abi::kUcallPrintf || uc.cmd == abi::kUcallAbort) {
    const void* nul = std::memchr(uc.buffer, '\0', sizeof uc.buffer);
    if (!nul)
      return memory_error(vcpu, slot + offsetof(abi::Ucall, buffer), sizeof uc.buffer,
                          "ucall buffer has no NUL terminator");
    ev.text.assign(uc.buffer, static_cast<const char*>(nul) - uc.buffer);
  }

  if (uc.cmd == abi::kUcallAbort) {
    AssertInfo a;
    const uint64_t expr = uc.args[abi::kAssertArgExpr] & ~shared_bit;
    const uint64_t file = uc.args[abi::kAssertArgFile] & ~shared_bit;
    auto st = mem.read_string(expr, kMaxAssertString, a.expr);
    if (st != GuestMemory::StringStatus::kOk)
      return memory_error(vcpu, expr, kMaxAssertString,
                          "assert expression string " + string_problem(st));
    st = mem.read_string(file, kMaxAssertString, a.file);
    if (st != GuestMemory::StringStatus::kOk)
      return memory_error(vcpu, file, kMaxAssertString,
                          "assert file name string " + string_problem(st));
    a.line = uc.args[abi::kAssertArgLine];
    ev.assertion = std::move(a);
  }
  return ev;
}

Event decode_mmio(const GuestMemory& mem, const MmioEvent& exit, uint64_t ucall_mmio_gpa,
                  uint64_t shared_bit) {
  // A datum of 0 is "no ucall", as the selftests' host reads it: the write stays an MMIO
  // access instead of a read of address 0.
  if (is_ucall_exit(exit, ucall_mmio_gpa) && exit.data != 0) return decode_ucall(mem, exit, shared_bit);
  return exit;
}

}  // namespace tdsim::ucall
