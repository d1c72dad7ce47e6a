#include "code_address.h"

#include <fmt/format.h>

#include "pe_module.h"

namespace tdsim::diag {

std::string code_address_name(const GuestMemory& mem, const TdImage& image, const LinearView& view, uint64_t addr) {
  if (const Symbol* s = image.symbol_for(addr))
    return addr == s->addr ? fmt::format(" <{}>", s->name) : fmt::format(" <{}+{:#x}>", s->name, addr - s->addr);
  if (image.tdvf)
    if (auto m = find_pe_module(mem, image, view, addr)) return " <" + describe_pe_address(*m, addr) + ">";
  return {};
}

}  // namespace tdsim::diag
