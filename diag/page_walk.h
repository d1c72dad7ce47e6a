// An x86-64 page walk, 4-level (CR3 -> PML4 -> PDPT -> PD -> PT) or 5-level (a PML5 first) done by the host over
// GuestMemory, for fault reports and the image linter: it says which level is missing
// or wrong, in architectural terms. Supervisor accesses only (the TD boot runs at CPL0).
// Depends on core/guest_memory.h only; knows no engine.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/guest_memory.h"

namespace tdsim::diag {

enum class Access { kRead, kWrite, kExec };

struct WalkParams {
  uint64_t cr3 = 0;
  uint64_t gva = 0;
  Access access = Access::kRead;
  uint32_t maxphyaddr = 52;  // entry bits [51:maxphyaddr] are reserved; a TD sees its GPAW
  uint64_t shared_bit = 0;   // TDX S-bit (1 << (gpaw-1)); 0 = not a TD
  bool nxe = true;           // EFER.NXE (TDX: always 1); clear makes bit 63 reserved
  bool wp = true;            // CR0.WP: supervisor writes honour R/W
  bool la57 = false;         // CR4.LA57: 5-level paging, 57-bit linear addresses
};

enum class WalkVerdict {
  kMapped,
  kNonCanonical,       // #GP, not #PF: bits 63:47 (63:56 with LA57) are not a sign extension
  kTableOutsideMemory, // the entry's address is not guest memory (EPT-level problem)
  kNotPresent,
  kReservedBit,
  kSharedTable,        // a paging structure at a shared GPA: TDX keeps page tables private
  kWriteProtected,
  kNoExecute,
};

struct WalkStep {
  int level = 0;           // 5 = PML5E, 4 = PML4E, 3 = PDPTE, 2 = PDE, 1 = PTE
  uint64_t entry_gpa = 0;  // where the entry was read (untagged)
  uint64_t entry = 0;      // valid when `read` is true
  bool read = false;
};

// The entries a walk read, at most one per level: held in place, since the TDCALL and
// TD-instruction hooks walk at every hit and an allocation per walk showed in their cost.
class WalkSteps {
 public:
  void push_back(const WalkStep& s) { at_[n_++] = s; }
  const WalkStep& back() const { return at_[n_ - 1]; }
  const WalkStep& operator[](size_t i) const { return at_[i]; }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  const WalkStep* begin() const { return at_.data(); }
  const WalkStep* end() const { return at_.data() + n_; }

 private:
  std::array<WalkStep, 5> at_{};  // PML5E (5-level paging) down to PTE
  size_t n_ = 0;
};

struct WalkResult {
  WalkVerdict verdict = WalkVerdict::kNotPresent;
  WalkSteps steps;
  int fault_level = 0;         // level of the offending entry; 0 when mapped or non-canonical
  uint64_t reserved_bits = 0;  // for kReservedBit: the offending bits of that entry
  // For kMapped (and kWriteProtected / kNoExecute, where the translation exists):
  uint64_t gpa = 0;            // as translated, shared bit included
  uint64_t page_size = 0;      // 4 KiB, 2 MiB or 1 GiB
  bool writable = false;       // effective R/W over all levels
  bool executable = false;     // no level has XD
  bool shared = false;         // the leaf carries the shared bit
  bool backed = false;         // the untagged GPA lies in guest memory

  bool ok() const { return verdict == WalkVerdict::kMapped; }
  uint64_t untagged_gpa(uint64_t shared_bit) const { return gpa & ~shared_bit; }
};

WalkResult page_walk(const GuestMemory& mem, const WalkParams& params);

const char* level_name(int level);    // "PML5E", "PML4E", "PDPTE", "PDE", "PTE"
const char* to_string(WalkVerdict v);
const char* to_string(Access a);
// "P RW NX PS S" style summary of an entry's flags.
std::string entry_flags(uint64_t entry, uint64_t shared_bit);
// One line per step plus a verdict line, for reports.
std::vector<std::string> format_walk(const WalkResult& r, const WalkParams& params);
// The verdict alone: "mapped -> GPA 0x... (2 MiB page, RW, NX)" or "not present at PDE".
std::string walk_summary(const WalkResult& r, const WalkParams& params);

}  // namespace tdsim::diag
