#include "trace.h"

#include <fmt/format.h>

#include "tdsim/abi/td_boot.h"
#include "tdsim/abi/tdx.h"

namespace tdsim::sim {

std::vector<std::string> format_stub_coverage(const StubCoverage& cov, const TdImage& image) {
  std::vector<std::string> out;
  // The reset vector is JMP rel8 + INT3; the bytes after it are padding, not code.
  const uint64_t begin = image.stub_gpa, end = abi::kResetVector + 3;
  const Region* r = image.region_at(begin);
  if (!r) return {fmt::format("stub coverage: no region holds the stub at {:#x}", begin)};
  auto byte_at = [&](uint64_t a) -> uint8_t {
    const uint64_t off = a - r->gpa;
    return off < r->bytes.size() ? r->bytes[off] : 0;
  };
  size_t ran = 0, total = 0;
  diag::CpuMode mode = diag::CpuMode::k32;
  for (uint64_t a = begin; a < end;) {
    if (auto it = cov.executed.find(a); it != cov.executed.end()) mode = it->second;
    uint8_t buf[15];
    const uint64_t n = std::min<uint64_t>(sizeof buf, end - a);
    for (uint64_t i = 0; i < n; ++i) buf[i] = byte_at(a + i);
    const diag::Insn insn = diag::disassemble_one(std::span<const uint8_t>(buf, n), a, mode);
    const bool hit = cov.executed.count(a) != 0;
    ran += hit;
    ++total;
    std::string sym;
    for (const Symbol& s : image.symbols)
      if (s.addr == a) sym = s.name;
    if (!sym.empty()) out.push_back(sym + ":");
    out.push_back(fmt::format("{} {}", hit ? "+" : "-", diag::format_insn(insn)));
    a += insn.size ? insn.size : 1;
  }
  out.push_back(fmt::format("stub coverage: {} of {} instructions ran ('-' never ran)", ran, total));
  return out;
}

}  // namespace tdsim::sim
