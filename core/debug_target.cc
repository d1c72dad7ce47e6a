#include "debug_target.h"

#include <algorithm>

namespace tdsim {

namespace {

using S = RegSet;

// gdb's amd64 core + sse registers first, in its numbering (0..56); then what a TD
// debugger needs beyond them.
constexpr DebugRegister kFile[] = {
    {"rax", S::kGeneral, 8, true},    {"rbx", S::kGeneral, 8, true},   {"rcx", S::kGeneral, 8, true},
    {"rdx", S::kGeneral, 8, true},    {"rsi", S::kGeneral, 8, true},   {"rdi", S::kGeneral, 8, true},
    {"rbp", S::kGeneral, 8, true},    {"rsp", S::kGeneral, 8, true},   {"r8", S::kGeneral, 8, true},
    {"r9", S::kGeneral, 8, true},     {"r10", S::kGeneral, 8, true},   {"r11", S::kGeneral, 8, true},
    {"r12", S::kGeneral, 8, true},    {"r13", S::kGeneral, 8, true},   {"r14", S::kGeneral, 8, true},
    {"r15", S::kGeneral, 8, true},    {"rip", S::kGeneral, 8, true},   {"eflags", S::kGeneral, 4, true},
    {"cs", S::kSegment, 4, false},    {"ss", S::kSegment, 4, false},   {"ds", S::kSegment, 4, false},
    {"es", S::kSegment, 4, false},    {"fs", S::kSegment, 4, false},   {"gs", S::kSegment, 4, false},
    {"st0", S::kX87, 10, true},       {"st1", S::kX87, 10, true},      {"st2", S::kX87, 10, true},
    {"st3", S::kX87, 10, true},       {"st4", S::kX87, 10, true},      {"st5", S::kX87, 10, true},
    {"st6", S::kX87, 10, true},       {"st7", S::kX87, 10, true},      {"fctrl", S::kX87, 4, true},
    {"fstat", S::kX87, 4, true},      {"ftag", S::kX87, 4, true},      {"fiseg", S::kX87, 4, false},
    {"fioff", S::kX87, 4, false},     {"foseg", S::kX87, 4, false},    {"fooff", S::kX87, 4, false},
    {"fop", S::kX87, 4, false},       {"xmm0", S::kSse, 16, true},     {"xmm1", S::kSse, 16, true},
    {"xmm2", S::kSse, 16, true},      {"xmm3", S::kSse, 16, true},     {"xmm4", S::kSse, 16, true},
    {"xmm5", S::kSse, 16, true},      {"xmm6", S::kSse, 16, true},     {"xmm7", S::kSse, 16, true},
    {"xmm8", S::kSse, 16, true},      {"xmm9", S::kSse, 16, true},     {"xmm10", S::kSse, 16, true},
    {"xmm11", S::kSse, 16, true},     {"xmm12", S::kSse, 16, true},    {"xmm13", S::kSse, 16, true},
    {"xmm14", S::kSse, 16, true},     {"xmm15", S::kSse, 16, true},    {"mxcsr", S::kSse, 4, true},
    {"fs_base", S::kSegment, 8, true}, {"gs_base", S::kSegment, 8, true},
    // Control registers are read-only to a debugger: changing paging or the CPU mode
    // under a stopped TD is not something a TD's CPU allows its guest without checks.
    {"cr0", S::kControl, 8, false},   {"cr2", S::kControl, 8, true},   {"cr3", S::kControl, 8, false},
    {"cr4", S::kControl, 8, false},   {"efer", S::kControl, 8, false},
    // Descriptor-table registers: the CPU mode (CS.L) is read from the GDT through them.
    {"gdtr_base", S::kControl, 8, false}, {"gdtr_limit", S::kControl, 4, false},
    {"idtr_base", S::kControl, 8, false}, {"idtr_limit", S::kControl, 4, false},
};

}  // namespace

std::span<const DebugRegister> x86_register_file() { return kFile; }

namespace {
constexpr uint64_t kPage = 4096;
}

uint64_t read_by_page(const GuestMemory& mem, const GvaTranslator& translate, uint64_t gva, void* dst, uint64_t len) {
  auto* out = static_cast<uint8_t*>(dst);
  uint64_t done = 0;
  while (done < len) {
    const uint64_t at = gva + done;
    const uint64_t n = std::min(len - done, kPage - (at & (kPage - 1)));
    const std::optional<uint64_t> gpa = translate(at);
    if (!gpa || !mem.read(*gpa, out + done, n)) break;
    done += n;
  }
  return done;
}

std::optional<std::vector<std::pair<uint64_t, uint64_t>>> pieces_by_page(const GuestMemory& mem,
                                                                          const GvaTranslator& translate, uint64_t gva,
                                                                          uint64_t len) {
  std::vector<std::pair<uint64_t, uint64_t>> pieces;
  for (uint64_t done = 0; done < len;) {
    const uint64_t at = gva + done;
    const uint64_t n = std::min(len - done, kPage - (at & (kPage - 1)));
    const std::optional<uint64_t> gpa = translate(at);
    if (!gpa || !mem.host_ptr(*gpa, n)) return std::nullopt;
    pieces.emplace_back(*gpa, n);
    done += n;
  }
  return pieces;
}

std::optional<unsigned> find_register(std::string_view name) {
  for (unsigned i = 0; i < std::size(kFile); ++i)
    if (name == kFile[i].name) return i;
  return std::nullopt;
}

}  // namespace tdsim
