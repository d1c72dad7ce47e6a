#include "exception_delivery.h"

#include <fmt/format.h>

#include "diag/x86_decode.h"
#include "engine.h"
#include "uc_error.h"
#include "guest_virtual.h"

namespace tdsim::sim {

namespace {

constexpr uint64_t kEferLma = 1ull << 10;
constexpr uint64_t kCr0Pe = 1;
constexpr uint64_t kRflagsTf = 1ull << 8, kRflagsIf = 1ull << 9, kRflagsNt = 1ull << 14,
                   kRflagsRf = 1ull << 16, kRflagsVm = 1ull << 17;
constexpr int kDf = 8, kNp = 11, kGp = 13, kPf = 14;
constexpr int kMaxChain = 4;

enum class Class { kBenign, kContributory, kPageFault, kDoubleFault };

Class class_of(int v) {
  switch (v) {
    case 0: case 10: case 11: case 12: case 13: return Class::kContributory;
    case kPf: return Class::kPageFault;
    case kDf: return Class::kDoubleFault;
    default: return Class::kBenign;
  }
}

uint64_t reg(uc_engine* uc, int id) {
  uint64_t v = 0;
  uc_reg_read(uc, id, &v);
  return v;
}

// One failure while delivering: the exception the CPU raises instead (or, with
// not_modelled, a delivery the engine cannot carry out).
struct Failure {
  RaisedException raised;
  std::string why;
  bool not_modelled = false;
};

// An IDT error code: the gate's index, the IDT bit, EXT (the event came from outside
// the instruction stream: delivery of an exception).
uint32_t idt_error(int vector) { return static_cast<uint32_t>(vector) << 3 | 2 | 1; }

class Deliverer {
 public:
  Deliverer(uc_engine* uc, GuestMemory& mem) : uc_(uc), mem_(mem) {}

  // nullopt: delivered; else the exception raised while trying.
  std::optional<Failure> deliver(const RaisedException& e) {
    uc_x86_mmr idtr{};
    uc_reg_read(uc_, UC_X86_REG_IDTR, &idtr);
    uc_x86_msr efer{0xc0000080, 0};
    uc_reg_read(uc_, UC_X86_REG_MSR, &efer);
    const bool ia32e = efer.value & kEferLma;
    if (!(reg(uc_, UC_X86_REG_CR0) & kCr0Pe))
      return Failure{{kGp, 0}, "real-mode delivery is not modelled (a TD never runs in real mode)"};
    const uint64_t gate_size = ia32e ? 16 : 8;
    const uint64_t off = static_cast<uint64_t>(e.vector) * gate_size;
    if (off + gate_size - 1 > idtr.limit)
      return Failure{{kGp, idt_error(e.vector)},
                     fmt::format("IDT limit {:#x} does not reach gate {} (IDTR base {:#x})", idtr.limit, e.vector,
                                 idtr.base)};
    uint64_t gate[2] = {};
    if (!read_gva(uc_, mem_, idtr.base + off, gate, gate_size))
      return page_fault(idtr.base + off, false, fmt::format("IDT gate {} at {:#x} is not mapped", e.vector, idtr.base + off));
    const unsigned type = (gate[0] >> 40) & 0xf;
    const bool present = (gate[0] >> 47) & 1;
    // 64-bit gates in IA-32e mode, 32-bit gates in protected mode (16-bit gates and task
    // gates are not modelled: no TD boot path uses them).
    if (type != 0xe && type != 0xf)
      return Failure{{kGp, idt_error(e.vector)},
                     fmt::format("IDT gate {} has type {:#x}, not a {}-bit interrupt or trap gate", e.vector, type,
                                 ia32e ? 64 : 32)};
    if (!present) return Failure{{kNp, idt_error(e.vector)}, fmt::format("IDT gate {} is not present", e.vector)};
    const uint16_t selector = static_cast<uint16_t>(gate[0] >> 16);
    const uint64_t cs = reg(uc_, UC_X86_REG_CS);
    if (selector != cs)
      return Failure{{e.vector, e.error_code},
                     fmt::format("gate {} switches CS from {:#x} to {:#x}, which this engine cannot load (it keeps "
                                 "the old code-segment cache)",
                                 e.vector, cs, selector),
                     true};
    uint64_t target = (gate[0] & 0xffff) | ((gate[0] >> 32) & 0xffff0000ull);
    if (ia32e) target |= gate[1] << 32;

    const uint64_t rip = reg(uc_, UC_X86_REG_RIP), rsp = reg(uc_, UC_X86_REG_RSP);
    const uint64_t rflags = reg(uc_, UC_X86_REG_RFLAGS);
    const uint64_t ss = reg(uc_, UC_X86_REG_SS);
    std::vector<uint64_t> frame;  // pushed in this order
    uint64_t sp;
    unsigned width;
    if (ia32e) {
      width = 8;
      sp = rsp;
      if (const unsigned ist = (gate[0] >> 32) & 7) {
        uc_x86_mmr tr{};
        uc_reg_read(uc_, UC_X86_REG_TR, &tr);
        if (!read_gva(uc_, mem_, tr.base + 0x24 + 8 * (ist - 1), &sp, 8))
          return page_fault(tr.base + 0x24 + 8 * (ist - 1), false, fmt::format("TSS IST{} slot is not mapped", ist));
      }
      sp &= ~0xfull;  // IA-32e aligns the new stack on 16 bytes
      frame = {ss, rsp, rflags, cs, rip};
    } else {
      width = 4;
      sp = rsp & 0xffffffff;  // flat 32-bit stack (the TD's segments have base 0)
      frame = {rflags & 0xffffffff, cs, rip & 0xffffffff};
    }
    if (e.error_code) frame.push_back(*e.error_code);
    for (uint64_t v : frame) {
      sp -= width;
      if (!ia32e) sp &= 0xffffffff;
      const auto gpa = translate_gva(uc_, mem_, sp, diag::Access::kWrite);
      if (!gpa || !mem_.write(*gpa, &v, width))
        return page_fault(sp, true, fmt::format("pushing the exception frame at {:#x} faults", sp));
    }
    uint64_t new_flags = rflags & ~(kRflagsTf | kRflagsNt | kRflagsRf | kRflagsVm);
    if (type == 0xe) new_flags &= ~kRflagsIf;  // interrupt gate; a trap gate keeps IF
    uc_check(uc_reg_write(uc_, UC_X86_REG_RSP, &sp), "uc_reg_write(RSP) delivering an exception");
    uc_check(uc_reg_write(uc_, UC_X86_REG_RFLAGS, &new_flags), "uc_reg_write(RFLAGS) delivering an exception");
    uc_check(uc_reg_write(uc_, UC_X86_REG_RIP, &target), "uc_reg_write(RIP) delivering an exception");
    return std::nullopt;
  }

 private:
  Failure page_fault(uint64_t linear, bool write, std::string why) {
    write_cr2(uc_, linear);
    return Failure{{kPf, write ? 2u : 0u}, std::move(why)};
  }

  uc_engine* uc_;
  GuestMemory& mem_;
};

}  // namespace

Delivery deliver_exception(uc_engine* uc, GuestMemory& mem, RaisedException first) {
  Delivery d;
  d.chain.push_back(first);
  Deliverer del(uc, mem);
  RaisedException current = first;
  for (int step = 0; step < kMaxChain; ++step) {
    std::optional<Failure> f = del.deliver(current);
    if (!f) {
      d.delivered = true;
      return d;
    }
    d.why = f->why;
    if (f->not_modelled) {
      d.not_modelled = true;
      return d;
    }
    const Class a = class_of(current.vector), b = class_of(f->raised.vector);
    if (a == Class::kDoubleFault) return d;  // a fault while delivering #DF: shutdown
    RaisedException next = f->raised;
    const bool df = (a == Class::kContributory && b == Class::kContributory) ||
                    (a == Class::kPageFault && (b == Class::kContributory || b == Class::kPageFault));
    if (df) next = RaisedException{kDf, 0};
    d.chain.push_back(next);
    current = next;
  }
  d.why += "; nested exceptions did not settle";
  return d;
}

std::string describe_chain(const Delivery& d) {
  std::string s;
  for (const RaisedException& e : d.chain) {
    if (!s.empty()) s += " -> ";
    s += diag::vector_name(e.vector);
    if (e.error_code) s += fmt::format("({:#x})", *e.error_code);
  }
  if (d.not_modelled)
    s += " (not delivered)";
  else if (!d.delivered)
    s += " -> shutdown (triple fault)";
  return s;
}

}  // namespace tdsim::sim
