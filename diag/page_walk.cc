#include "diag/page_walk.h"

#include <fmt/format.h>

namespace tdsim::diag {
namespace {

constexpr uint64_t kP = 1ull << 0;
constexpr uint64_t kRw = 1ull << 1;
constexpr uint64_t kUs = 1ull << 2;
constexpr uint64_t kA = 1ull << 5;
constexpr uint64_t kD = 1ull << 6;
constexpr uint64_t kPs = 1ull << 7;
constexpr uint64_t kXd = 1ull << 63;

constexpr uint64_t bits(int hi, int lo) {  // inclusive
  return (hi >= 63 ? ~0ull : ((1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1);
}

int index_shift(int level) { return 12 + 9 * (level - 1); }

// Reserved bits of a present entry at `level` (SDM 4.5, "reserved bit" checks).
uint64_t reserved_mask(uint64_t entry, int level, const WalkParams& p) {
  uint64_t m = 0;
  if (p.maxphyaddr < 52) m |= bits(51, p.maxphyaddr);
  if (!p.nxe) m |= kXd;
  if (level >= 4) m |= kPs;
  if (entry & kPs) {
    if (level == 3) m |= bits(29, 13);
    if (level == 2) m |= bits(20, 13);
  }
  return entry & m;
}

}  // namespace

const char* level_name(int level) {
  switch (level) {
    case 5: return "PML5E";
    case 4: return "PML4E";
    case 3: return "PDPTE";
    case 2: return "PDE";
    case 1: return "PTE";
  }
  return "?";
}

const char* to_string(WalkVerdict v) {
  switch (v) {
    case WalkVerdict::kMapped: return "mapped";
    case WalkVerdict::kNonCanonical: return "non-canonical address";
    case WalkVerdict::kTableOutsideMemory: return "paging structure outside guest memory";
    case WalkVerdict::kNotPresent: return "not present";
    case WalkVerdict::kReservedBit: return "reserved bit set";
    case WalkVerdict::kSharedTable: return "paging structure at a shared GPA";
    case WalkVerdict::kWriteProtected: return "write to a read-only page";
    case WalkVerdict::kNoExecute: return "instruction fetch from a no-execute page";
  }
  return "?";
}

const char* to_string(Access a) {
  switch (a) {
    case Access::kRead: return "read";
    case Access::kWrite: return "write";
    case Access::kExec: return "fetch";
  }
  return "?";
}

std::string entry_flags(uint64_t e, uint64_t shared_bit) {
  if (!(e & kP)) return "not present";
  std::string s = "P";
  if (e & kRw) s += " RW";
  if (e & kUs) s += " US";
  if (e & kA) s += " A";
  if (e & kD) s += " D";
  if (e & kPs) s += " PS";
  if (e & kXd) s += " XD";
  if (shared_bit && (e & shared_bit)) s += " S-bit";
  return s;
}

WalkResult page_walk(const GuestMemory& mem, const WalkParams& p) {
  WalkResult r;
  // 4-level paging translates 48-bit linear addresses, 5-level 57-bit ones; the rest
  // must sign-extend the top translated bit.
  const int width = p.la57 ? 56 : 47;
  uint64_t top = p.gva >> width;
  if (top != 0 && top != (~0ull >> width)) {
    r.verdict = WalkVerdict::kNonCanonical;
    return r;
  }
  const uint64_t addr_mask = bits(p.maxphyaddr - 1, 12);
  uint64_t table = p.cr3 & addr_mask;
  bool writable = true, executable = true;
  for (int level = p.la57 ? 5 : 4; level >= 1; --level) {
    WalkStep step;
    step.level = level;
    step.entry_gpa = (table & ~p.shared_bit) + ((p.gva >> index_shift(level)) & 0x1ff) * 8;
    step.read = mem.read(step.entry_gpa, &step.entry, 8);
    r.steps.push_back(step);
    r.fault_level = level;
    if (p.shared_bit && (table & p.shared_bit)) {
      r.verdict = WalkVerdict::kSharedTable;
      return r;
    }
    if (!step.read) {
      r.verdict = WalkVerdict::kTableOutsideMemory;
      return r;
    }
    const uint64_t e = step.entry;
    if (!(e & kP)) {
      r.verdict = WalkVerdict::kNotPresent;
      return r;
    }
    if (uint64_t rsv = reserved_mask(e, level, p)) {
      r.verdict = WalkVerdict::kReservedBit;
      r.reserved_bits = rsv;
      return r;
    }
    writable = writable && (e & kRw);
    executable = executable && !(p.nxe && (e & kXd));
    const bool leaf = level == 1 || ((level == 3 || level == 2) && (e & kPs));
    if (!leaf) {
      table = e & addr_mask;
      continue;
    }
    r.page_size = 1ull << index_shift(level);
    r.gpa = (e & addr_mask & ~(r.page_size - 1)) | (p.gva & (r.page_size - 1));
    r.writable = writable;
    r.executable = executable;
    r.shared = p.shared_bit && (e & p.shared_bit);
    r.backed = mem.host_ptr(r.gpa & ~p.shared_bit, 1) != nullptr;
    if (p.access == Access::kWrite && p.wp && !writable) {
      r.verdict = WalkVerdict::kWriteProtected;
    } else if (p.access == Access::kExec && !executable) {
      r.verdict = WalkVerdict::kNoExecute;
    } else {
      r.verdict = WalkVerdict::kMapped;
      r.fault_level = 0;
    }
    return r;
  }
  return r;  // unreachable: level 1 is always a leaf
}

std::string walk_summary(const WalkResult& r, const WalkParams& p) {
  auto size_name = [](uint64_t s) {
    return s == (1ull << 30) ? "1 GiB" : s == (2ull << 20) ? "2 MiB" : "4 KiB";
  };
  switch (r.verdict) {
    case WalkVerdict::kMapped:
      return fmt::format("mapped -> GPA {:#x} ({} page, {}, {}{}{})", r.gpa, size_name(r.page_size),
                         r.writable ? "RW" : "RO", r.executable ? "X" : "NX",
                         r.shared ? ", shared" : "", r.backed ? "" : ", GPA not backed");
    case WalkVerdict::kNonCanonical:
      return fmt::format("GVA {:#x} is not canonical (bits 63:47 differ): #GP, not #PF", p.gva);
    case WalkVerdict::kReservedBit:
      return fmt::format("reserved bit(s) {:#x} set in {}", r.reserved_bits, level_name(r.fault_level));
    case WalkVerdict::kTableOutsideMemory:
      return fmt::format("{} at GPA {:#x} is outside guest memory", level_name(r.fault_level),
                         r.steps.back().entry_gpa);
    case WalkVerdict::kWriteProtected:
    case WalkVerdict::kNoExecute:
      return fmt::format("{} (translation -> GPA {:#x})", to_string(r.verdict), r.gpa);
    default:
      return fmt::format("{} at {}", to_string(r.verdict), level_name(r.fault_level));
  }
}

std::vector<std::string> format_walk(const WalkResult& r, const WalkParams& p) {
  std::vector<std::string> out;
  out.push_back(fmt::format("page walk: {} GVA {:#x}, CR3 {:#x}", to_string(p.access), p.gva, p.cr3));
  for (const WalkStep& s : r.steps) {
    unsigned idx = (p.gva >> index_shift(s.level)) & 0x1ff;
    if (!s.read)
      out.push_back(fmt::format("  {}[{}] @ GPA {:#x}: unreadable", level_name(s.level), idx, s.entry_gpa));
    else
      out.push_back(fmt::format("  {}[{}] @ GPA {:#x} = {:#018x}  {}", level_name(s.level), idx,
                                s.entry_gpa, s.entry, entry_flags(s.entry, p.shared_bit)));
  }
  out.push_back("  => " + walk_summary(r, p));
  return out;
}

}  // namespace tdsim::diag
