#include "sim_debug_target.h"

#include <array>
#include <cstring>

#include "guest_virtual.h"
#include "scheduler.h"
#include "tdsim/abi/tdx.h"

namespace tdsim::sim {

namespace {

constexpr uint32_t kMsrEfer = 0xc0000080;
// EFER bits a TD's CPU holds at 1 (the TD initial state's SCE and NXE; a TD cannot write
// EFER). The engine starts with them (reset_state.cc writes 0x901 and Unicorn 2.1 keeps
// it); adding them keeps the TD's view should a guest WRMSR clear them in the engine.
constexpr uint64_t kEferFixedInTd = abi::kTdInitEfer & ~abi::kEferLme;

// Registers Unicorn does not hand out as one plain value.
constexpr int kEfer = -2, kGdtrBase = -3, kGdtrLimit = -4, kIdtrBase = -5, kIdtrLimit = -6;

struct UcName {
  const char* name;
  int uc_id;  // UC_X86_REG_*, or one of the k* above
};

constexpr UcName kUcIds[] = {
    {"rax", UC_X86_REG_RAX},     {"rbx", UC_X86_REG_RBX},     {"rcx", UC_X86_REG_RCX},
    {"rdx", UC_X86_REG_RDX},     {"rsi", UC_X86_REG_RSI},     {"rdi", UC_X86_REG_RDI},
    {"rbp", UC_X86_REG_RBP},     {"rsp", UC_X86_REG_RSP},     {"r8", UC_X86_REG_R8},
    {"r9", UC_X86_REG_R9},       {"r10", UC_X86_REG_R10},     {"r11", UC_X86_REG_R11},
    {"r12", UC_X86_REG_R12},     {"r13", UC_X86_REG_R13},     {"r14", UC_X86_REG_R14},
    {"r15", UC_X86_REG_R15},     {"rip", UC_X86_REG_RIP},     {"eflags", UC_X86_REG_EFLAGS},
    {"cs", UC_X86_REG_CS},       {"ss", UC_X86_REG_SS},       {"ds", UC_X86_REG_DS},
    {"es", UC_X86_REG_ES},       {"fs", UC_X86_REG_FS},       {"gs", UC_X86_REG_GS},
    {"st0", UC_X86_REG_ST0},     {"st1", UC_X86_REG_ST1},     {"st2", UC_X86_REG_ST2},
    {"st3", UC_X86_REG_ST3},     {"st4", UC_X86_REG_ST4},     {"st5", UC_X86_REG_ST5},
    {"st6", UC_X86_REG_ST6},     {"st7", UC_X86_REG_ST7},     {"fctrl", UC_X86_REG_FPCW},
    {"fstat", UC_X86_REG_FPSW},  {"ftag", UC_X86_REG_FPTAG},  {"fiseg", UC_X86_REG_FCS},
    {"fioff", UC_X86_REG_FIP},   {"foseg", UC_X86_REG_FDS},   {"fooff", UC_X86_REG_FDP},
    {"fop", UC_X86_REG_FOP},     {"xmm0", UC_X86_REG_XMM0},   {"xmm1", UC_X86_REG_XMM1},
    {"xmm2", UC_X86_REG_XMM2},   {"xmm3", UC_X86_REG_XMM3},   {"xmm4", UC_X86_REG_XMM4},
    {"xmm5", UC_X86_REG_XMM5},   {"xmm6", UC_X86_REG_XMM6},   {"xmm7", UC_X86_REG_XMM7},
    {"xmm8", UC_X86_REG_XMM8},   {"xmm9", UC_X86_REG_XMM9},   {"xmm10", UC_X86_REG_XMM10},
    {"xmm11", UC_X86_REG_XMM11}, {"xmm12", UC_X86_REG_XMM12}, {"xmm13", UC_X86_REG_XMM13},
    {"xmm14", UC_X86_REG_XMM14}, {"xmm15", UC_X86_REG_XMM15}, {"mxcsr", UC_X86_REG_MXCSR},
    {"fs_base", UC_X86_REG_FS_BASE}, {"gs_base", UC_X86_REG_GS_BASE},
    {"cr0", UC_X86_REG_CR0},     {"cr2", UC_X86_REG_CR2},     {"cr3", UC_X86_REG_CR3},
    {"cr4", UC_X86_REG_CR4},     {"efer", kEfer},
    {"gdtr_base", kGdtrBase},    {"gdtr_limit", kGdtrLimit},  {"idtr_base", kIdtrBase},
    {"idtr_limit", kIdtrLimit},
};

// x86_register_file() index -> Unicorn id (or k*), -1 where Unicorn has none.
const std::vector<int>& uc_ids() {
  static const std::vector<int> ids = [] {
    std::vector<int> v;
    for (const DebugRegister& r : x86_register_file()) {
      int id = -1;
      for (const UcName& u : kUcIds)
        if (std::strcmp(u.name, r.name) == 0) id = u.uc_id;
      v.push_back(id);
    }
    return v;
  }();
  return ids;
}

// Unicorn writes at most 16 bytes for any of these ids (xmm); narrower ones (selectors,
// x87 control words) write 2 or 4, so a zeroed buffer zero-extends them.
using RegBuf = std::array<uint8_t, 16>;

bool read_raw(uc_engine* uc, int id, RegBuf& buf) {
  buf.fill(0);
  if (id >= 0) return uc_reg_read(uc, id, buf.data()) == UC_ERR_OK;
  uint64_t v = 0;
  if (id == kEfer) {
    uc_x86_msr efer{kMsrEfer, 0};
    if (uc_reg_read(uc, UC_X86_REG_MSR, &efer) != UC_ERR_OK) return false;
    v = efer.value | kEferFixedInTd;
  } else {
    uc_x86_mmr dtr{};
    if (uc_reg_read(uc, id == kGdtrBase || id == kGdtrLimit ? UC_X86_REG_GDTR : UC_X86_REG_IDTR, &dtr) != UC_ERR_OK)
      return false;
    v = id == kGdtrBase || id == kIdtrBase ? dtr.base : dtr.limit;
  }
  std::memcpy(buf.data(), &v, sizeof v);
  return true;
}

}  // namespace

namespace {

std::vector<Vcpu*> vcpus_of(Session& s) {
  std::vector<Vcpu*> v;
  for (uint32_t i = 0; i < s.nr_vcpus(); ++i) v.push_back(&s.vcpu(i));
  return v;
}

}  // namespace

SimDebugTarget::SimDebugTarget(Session& session)
    : SimDebugTarget(session.image(), session.memory(), vcpus_of(session),
                     [&session](uint64_t gpa, const void* src, uint64_t len) {
                       return session.write_guest(gpa, src, len);
                     }) {}

SimDebugTarget::SimDebugTarget(const TdImage& image, const GuestMemory& memory, std::vector<Vcpu*> vcpus,
                               GuestWriter write_guest)
    : image_(image), memory_(memory), vcpus_(std::move(vcpus)), write_guest_(std::move(write_guest)) {
  for (Vcpu* v : vcpus_) {
    v->set_tdcall_observer([this](const std::string& line) {
      if (tdcalls_.size() == kTdcallLogLines) tdcalls_.pop_front();
      tdcalls_.push_back(line);
    });
    // A debugger steps single instructions and stops exactly where it asked.
    v->set_exact_count(true);
  }
}

bool SimDebugTarget::read_register(uint32_t vcpu, unsigned reg, std::span<uint8_t> out) {
  const auto file = x86_register_file();
  if (vcpu >= nr_vcpus() || reg >= file.size() || out.size() != file[reg].size || uc_ids()[reg] == -1) return false;
  RegBuf buf;
  if (!read_raw(vcpus_[vcpu]->engine(), uc_ids()[reg], buf)) return false;
  std::memcpy(out.data(), buf.data(), out.size());
  return true;
}

bool SimDebugTarget::write_register(uint32_t vcpu, unsigned reg, std::span<const uint8_t> in) {
  const auto file = x86_register_file();
  if (vcpu >= nr_vcpus() || reg >= file.size() || in.size() != file[reg].size || uc_ids()[reg] == -1) return false;
  uc_engine* uc = vcpus_[vcpu]->engine();
  RegBuf cur;
  if (!read_raw(uc, uc_ids()[reg], cur)) return false;
  // Read-only registers (the special ids among them) accept only their current value.
  if (!file[reg].writable || uc_ids()[reg] < 0) return std::memcmp(cur.data(), in.data(), in.size()) == 0;
  // Keep bytes past the register's width (the upper half of a 4-byte eflags) as they are.
  std::memcpy(cur.data(), in.data(), in.size());
  return uc_reg_write(uc, uc_ids()[reg], cur.data()) == UC_ERR_OK;
}

uint64_t SimDebugTarget::read_memory(uint32_t vcpu, uint64_t gva, void* dst, uint64_t len) {
  if (vcpu >= nr_vcpus()) return 0;
  return read_by_page(memory_, gva_translator(vcpu), gva, dst, len);
}

bool SimDebugTarget::write_memory(uint32_t vcpu, uint64_t gva, const void* src, uint64_t len) {
  if (vcpu >= nr_vcpus()) return false;
  // Translate every page first: all or nothing.
  const auto pieces = pieces_by_page(memory_, gva_translator(vcpu), gva, len);
  if (!pieces) return false;
  const auto* in = static_cast<const uint8_t*>(src);
  for (const auto& [gpa, n] : *pieces) {
    if (!write_guest_(gpa, in, n)) return false;
    in += n;
  }
  return true;
}

// A debugger writes past page protection (a breakpoint into code), so the walk is a read's.
GvaTranslator SimDebugTarget::gva_translator(uint32_t vcpu) const {
  return [this, vcpu](uint64_t gva) {
    return translate_gva(vcpus_[vcpu]->engine(), memory_, gva, diag::Access::kRead);
  };
}

void SimDebugTarget::install_watchpoints() {
  for (Vcpu* v : vcpus_) v->set_watchpoints(&watchpoints_);
}

bool SimDebugTarget::add_watchpoint(WatchKind kind, uint64_t gva, uint64_t len) {
  if (len == 0 || gva + (len - 1) < gva) return false;
  watchpoints_.push_back({kind, gva, len});
  install_watchpoints();
  return true;
}

bool SimDebugTarget::remove_watchpoint(WatchKind kind, uint64_t gva, uint64_t len) {
  for (auto it = watchpoints_.begin(); it != watchpoints_.end(); ++it)
    if (it->kind == kind && it->addr == gva && it->len == len) {
      watchpoints_.erase(it);
      install_watchpoints();
      return true;
    }
  return false;
}

void SimDebugTarget::clear_breakpoints_and_watchpoints() {
  breakpoints_.clear();
  watchpoints_.clear();
  install_watchpoints();
}

Vcpu::SliceEnd SimDebugTarget::run_slice(uint32_t vcpu, uint64_t max_insns, bool stop_at_breakpoints,
                                         const EventSink& sink, const std::atomic<bool>& cancel) {
  Vcpu& v = *vcpus_.at(vcpu);
  v.set_breakpoints(stop_at_breakpoints && !breakpoints_.empty() ? &breakpoints_ : nullptr);
  v.set_yield_at_pause(others_running(vcpus_, vcpu));
  Vcpu::SliceEnd end;
  try {
    end = v.run_slice(max_insns, sink, cancel);
  } catch (...) {
    v.set_breakpoints(nullptr);
    throw;
  }
  v.set_breakpoints(nullptr);
  return end;
}

DebugStop debug_stop(Vcpu::SliceEnd end, const Vcpu& v) {
  switch (end) {
    case Vcpu::SliceEnd::kStopped: return {DebugStop::Kind::kEnded};
    case Vcpu::SliceEnd::kBreakpoint: return {DebugStop::Kind::kBreakpoint};
    case Vcpu::SliceEnd::kWatchpoint: return {DebugStop::Kind::kWatchpoint, v.watch_hit().kind, v.watch_hit().addr};
    // kExhausted, kEvent under stepping on events, kCancelled, kDeferred: the vCPU goes on.
    default: return {DebugStop::Kind::kExhausted};
  }
}

DebugStop SimDebugTarget::run(uint32_t vcpu, uint64_t max_insns, bool stop_at_breakpoints, const EventSink& sink) {
  Vcpu& v = *vcpus_.at(vcpu);
  if (v.stopped()) return {DebugStop::Kind::kEnded};
  return debug_stop(run_slice(vcpu, max_insns, stop_at_breakpoints, sink, never_), v);
}

std::vector<std::string> SimDebugTarget::tdcall_log(size_t max) const {
  const size_t skip = tdcalls_.size() > max ? tdcalls_.size() - max : 0;
  return {tdcalls_.begin() + static_cast<std::ptrdiff_t>(skip), tdcalls_.end()};
}

}  // namespace tdsim::sim
