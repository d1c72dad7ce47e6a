// What a user asks for; build_image() turns it into a TdImage or a LayoutError that
// names the offending field. Knows no backend.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tdsim {

struct LayoutSpec {
  uint64_t mem_size = 32ull << 20;  // low RAM [0, mem_size): tables, ELF, stacks, pool
  uint32_t nr_vcpus = 1;            // 1..kMaxVcpus
  uint32_t gpaw = 48;               // 48 or 52; the shared bit is 1 << (gpaw - 1)
  // 4, or 5 (LA57: a PML5 on top, CR4.LA57 in the boot parameters; needs GPAW 52).
  uint32_t paging_levels = 4;
  uint64_t init_rcx = 0;            // KVM_TDX_INIT_VCPU data

  std::vector<uint8_t> guest_elf;   // required: an x86-64 ELF executable
  std::string guest_elf_name = "guest";  // for messages (usually the file path)

  // Bring-your-own stub: a flat 32-bit blob placed so it ends at 0xfffffff0, with the
  // reset vector JMP rel8 written after it. Empty = the built-in stub.
  std::vector<uint8_t> stub;
  std::string stub_name = "stub";

  std::optional<uint64_t> ucall_mmio_gpa;  // untagged; default: mem_size
  // Shared MMIO window: this many pages right after the ucall MMIO page, mapped with the
  // shared bit and backed by nothing, as a TD guest maps a device's registers. A plain
  // MOV there is an EPT violation the TD sees as a #VE (docs/memory-layout.md). 0: none.
  uint32_t shared_mmio_pages = 0;

  // Boot-parameter overrides (default: computed). Validated like everything else.
  std::optional<uint32_t> cr0;
  std::optional<uint32_t> cr4;
  // Placement overrides, mostly for tests of the validation rules.
  std::optional<uint64_t> page_tables_gpa;
  std::optional<uint64_t> stacks_gpa;
  std::optional<uint64_t> ucall_pool_gpa;
};

inline constexpr uint32_t kMaxVcpus = 64;
inline constexpr uint32_t kMaxSharedMmioPages = 16;

// A spec that cannot become a valid image. field() is the LayoutSpec field, boot
// parameter or ELF part at fault ("nr_vcpus", "cr4", "guest_elf: segment 2", ...).
class LayoutError : public std::runtime_error {
 public:
  LayoutError(std::string field, const std::string& message)
      : std::runtime_error(field + ": " + message), field_(std::move(field)) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

}  // namespace tdsim
