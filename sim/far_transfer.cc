#include "far_transfer.h"

#include <fmt/format.h>

#include <optional>
#include <vector>

#include "uc_error.h"

namespace tdsim::sim {

namespace {

constexpr uint64_t kPage = 0x1000;
constexpr uint64_t k4GiB = 1ull << 32;
constexpr uint64_t kNoUntil = ~0ull;  // no guest address is ever this

// The highest physical page below 4 GiB that nothing is mapped at: reachable with
// 32-bit linear addresses, and not guest memory, so no guest access can ever see it.
std::optional<uint64_t> free_page_below_4g(uc_engine* uc) {
  uc_mem_region* regions = nullptr;
  uint32_t count = 0;
  uc_check(uc_mem_regions(uc, &regions, &count), "uc_mem_regions (a scratch page for a far jump)");
  const std::vector<uc_mem_region> r(regions, regions + count);
  uc_free(regions);
  for (uint64_t p = k4GiB - kPage; p >= kPage; p -= kPage) {
    bool used = false;
    for (const uc_mem_region& m : r) used = used || (p <= m.end && p + kPage - 1 >= m.begin);
    if (!used) return p;
  }
  return std::nullopt;
}

uint64_t reg(uc_engine* uc, int id) {
  uint64_t v = 0;
  uc_check(uc_reg_read(uc, id, &v), "uc_reg_read after a far jump");
  return v;
}

}  // namespace

std::string far_jump(uc_engine* uc, const FarTarget& to) {
  if (to.offset >= k4GiB) return fmt::format("far jump target {:#x} is beyond 32 bits", to.offset);
  const auto page = free_page_below_4g(uc);
  if (!page) return "no physical page below 4 GiB is free for the far jump";
  // JMP ptr16:32 (EA), with an operand-size prefix when the current code is 16-bit.
  std::vector<uint8_t> insn;
  if (to.from_code16) insn.push_back(0x66);
  insn.push_back(0xea);
  for (int i = 0; i < 4; ++i) insn.push_back(static_cast<uint8_t>(to.offset >> (8 * i)));
  insn.push_back(static_cast<uint8_t>(to.selector));
  insn.push_back(static_cast<uint8_t>(to.selector >> 8));

  uc_check(uc_mem_map(uc, *page, kPage, UC_PROT_READ | UC_PROT_EXEC), "uc_mem_map (far-jump scratch page)");
  std::string why;
  try {
    uc_check(uc_mem_write(uc, *page, insn.data(), insn.size()), "uc_mem_write (far-jump scratch page)");
    const uc_err err = uc_emu_start(uc, *page, kNoUntil, 0, 1);
    if (err != UC_ERR_OK) why = fmt::format("the far jump to {:#x}:{:#x} failed: {}", to.selector, to.offset, uc_strerror(err));
  } catch (...) {
    uc_mem_unmap(uc, *page, kPage);
    throw;
  }
  uc_check(uc_mem_unmap(uc, *page, kPage), "uc_mem_unmap (far-jump scratch page)");
  // The page's translated code must not outlive the page.
  uc_check(uc_ctl_remove_cache(uc, *page, *page + kPage), "uc_ctl_remove_cache (far-jump scratch page)");
  if (!why.empty()) return why;
  const uint64_t rip = reg(uc, UC_X86_REG_RIP), cs = reg(uc, UC_X86_REG_CS);
  if (rip != to.offset || cs != to.selector)
    return fmt::format("the far jump to {:#x}:{:#x} ended at {:#x}:{:#x}", to.selector, to.offset, cs, rip);
  return {};
}

}  // namespace tdsim::sim
