#include "bootstub/host/elf_loader.h"

#include <fmt/format.h>
#include <gelf.h>
#include <libelf.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "bootstub/host/layout_spec.h"

namespace tdsim {
namespace {

struct ElfCloser {
  void operator()(Elf* e) const { elf_end(e); }
};

[[noreturn]] void fail(const std::string& name, const std::string& what) {
  throw LayoutError("guest_elf", fmt::format("{}: {}", name, what));
}

std::string libelf_error() { return elf_errmsg(-1) ? elf_errmsg(-1) : "unknown libelf error"; }

void check_header(Elf* elf, const std::string& name, GElf_Ehdr& eh) {
  if (elf_kind(elf) != ELF_K_ELF) fail(name, "not an ELF file (bad magic)");
  const int cls = gelf_getclass(elf);
  if (cls == ELFCLASS32) fail(name, "32-bit ELF (ELFCLASS32); only ELF64 x86-64 executables load");
  if (cls != ELFCLASS64) fail(name, fmt::format("unknown ELF class {}", cls));
  if (!gelf_getehdr(elf, &eh)) fail(name, "truncated: no complete ELF header (libelf: " + libelf_error() + ")");
  if (eh.e_ident[EI_DATA] != ELFDATA2LSB) fail(name, "not little-endian (EI_DATA != ELFDATA2LSB)");
  if (eh.e_machine != EM_X86_64)
    fail(name, fmt::format("machine {} is not x86-64 (EM_X86_64 = {})", eh.e_machine, EM_X86_64));
  if (eh.e_type != ET_EXEC)
    fail(name, fmt::format("type {} is not ET_EXEC: the layout loads at link addresses and "
                           "relocates nothing (no PIE, no relocatable objects)",
                           eh.e_type));
}

ElfSegment read_segment(const GElf_Phdr& ph, size_t i, std::span<const uint8_t> file,
                        const std::string& name) {
  const std::string seg = fmt::format("segment {} (vaddr {:#x})", i, ph.p_vaddr);
  if (ph.p_filesz > ph.p_memsz)
    fail(name, fmt::format("{}: p_filesz {:#x} > p_memsz {:#x}", seg, ph.p_filesz, ph.p_memsz));
  if (ph.p_offset > file.size() || ph.p_filesz > file.size() - ph.p_offset)
    fail(name, fmt::format("{}: file bytes [{:#x}, {:#x}) lie past the end of the file ({:#x} bytes)",
                           seg, ph.p_offset, ph.p_offset + ph.p_filesz, file.size()));
  // The layout identity-maps GVA == GPA, so a segment whose load address differs from its
  // run address would run from memory nobody loaded.
  if (ph.p_paddr != ph.p_vaddr)
    fail(name, fmt::format("{}: p_paddr {:#x} != p_vaddr {:#x}; segments must be identity-loaded",
                           seg, ph.p_paddr, ph.p_vaddr));
  // Checked with the end rounded up to a page, as the layout places it: a segment ending
  // in the top page would otherwise round to an empty [vaddr, 0) (found by fuzz_guest_elf).
  constexpr uint64_t kPageMask = 4095;
  if (ph.p_memsz > UINT64_MAX - kPageMask || ph.p_vaddr > UINT64_MAX - kPageMask - ph.p_memsz)
    fail(name, fmt::format("{}: p_vaddr + p_memsz ({:#x} + {:#x}) wraps around the address space", seg,
                           ph.p_vaddr, ph.p_memsz));
  ElfSegment s;
  s.index = i;
  s.vaddr = ph.p_vaddr;
  s.memsz = ph.p_memsz;
  s.executable = ph.p_flags & PF_X;
  s.writable = ph.p_flags & PF_W;
  s.bytes.assign(file.begin() + ph.p_offset, file.begin() + ph.p_offset + ph.p_filesz);
  return s;
}

void read_symbols(Elf* elf, const std::string& name, LoadedElf& out) {
  size_t nsec = 0;
  if (elf_getshdrnum(elf, &nsec) != 0) fail(name, "section headers unreadable (libelf: " + libelf_error() + ")");
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) fail(name, "section header unreadable (libelf: " + libelf_error() + ")");
    if (sh.sh_type != SHT_SYMTAB || sh.sh_entsize == 0) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (!data) fail(name, "symbol table past the end of the file (libelf: " + libelf_error() + ")");
    const size_t count = sh.sh_size / sh.sh_entsize;
    for (size_t k = 0; k < count; ++k) {
      GElf_Sym sym;
      if (!gelf_getsym(data, static_cast<int>(k), &sym)) break;
      if (sym.st_shndx == SHN_UNDEF || sym.st_name == 0) continue;
      const char* sname = elf_strptr(elf, sh.sh_link, sym.st_name);
      if (!sname || !*sname) continue;
      const int type = GELF_ST_TYPE(sym.st_info);
      out.symbols.push_back(
          {sname, sym.st_value, sym.st_size, type == STT_FUNC || type == STT_OBJECT});
    }
  }
}

}  // namespace

const ElfSymbol* LoadedElf::find_symbol(const std::string& name) const {
  for (const ElfSymbol& s : symbols)
    if (s.name == name) return &s;
  return nullptr;
}

const ElfSegment* LoadedElf::segment_holding(uint64_t addr, uint64_t len) const {
  for (const ElfSegment& s : segments)
    if (addr >= s.vaddr && addr <= s.end() && len <= s.end() - addr) return &s;
  return nullptr;
}

LoadedElf load_guest_elf(std::span<const uint8_t> file, const std::string& name) {
  if (file.empty()) fail(name, "empty file; a guest ELF is required");
  if (elf_version(EV_CURRENT) == EV_NONE) fail(name, "libelf initialisation failed: " + libelf_error());
  // libelf wants a mutable buffer; keep our own copy alive for the Elf's lifetime. One
  // memcpy, not an element-wise copy: under the fuzzer that loop was a fifth of the time.
  std::vector<char> buf(file.size());
  std::memcpy(buf.data(), file.data(), file.size());
  std::unique_ptr<Elf, ElfCloser> elf(elf_memory(buf.data(), buf.size()));
  if (!elf) {
    const bool magic = file.size() >= SELFMAG && std::equal(file.begin(), file.begin() + SELFMAG, ELFMAG);
    fail(name, fmt::format("{} ({} bytes; libelf: {})", magic ? "truncated or corrupt ELF file" : "not an ELF file",
                           file.size(), libelf_error()));
  }

  GElf_Ehdr eh;
  check_header(elf.get(), name, eh);
  // libelf silently yields no sections when the section header table is cut off: the
  // guest would load without its symbols (tdsim_guest_config unpatched) and misbehave.
  if (eh.e_shoff != 0) {
    const uint64_t table = uint64_t{eh.e_shnum ? eh.e_shnum : 1u} * eh.e_shentsize;
    if (eh.e_shoff > file.size() || table > file.size() - eh.e_shoff)
      fail(name, fmt::format("section header table [{:#x}, +{:#x}) lies past the end of the file ({:#x} bytes)",
                             eh.e_shoff, table, file.size()));
  }

  // libelf reads headers with the entry sizes it knows, whatever e_phentsize and
  // e_shentsize say: a file declaring others is not what its tables look like.
  if (eh.e_phnum != 0 && eh.e_phentsize != sizeof(Elf64_Phdr))
    fail(name, fmt::format("e_phentsize {} is not sizeof(Elf64_Phdr) ({})", eh.e_phentsize, sizeof(Elf64_Phdr)));
  if (eh.e_shoff != 0 && eh.e_shentsize != sizeof(Elf64_Shdr))
    fail(name, fmt::format("e_shentsize {} is not sizeof(Elf64_Shdr) ({})", eh.e_shentsize, sizeof(Elf64_Shdr)));
  if (eh.e_shoff != 0) {
    size_t shnum = 0, shstrndx = 0;
    if (elf_getshdrnum(elf.get(), &shnum) != 0 || elf_getshdrstrndx(elf.get(), &shstrndx) != 0)
      fail(name, "e_shstrndx unreadable (libelf: " + libelf_error() + ")");
    if (shnum != 0 && shstrndx != SHN_UNDEF && shstrndx >= shnum)
      fail(name, fmt::format("e_shstrndx {} is not a section (the file has {})", shstrndx, shnum));
  }

  size_t nph = 0;
  if (elf_getphdrnum(elf.get(), &nph) != 0)
    fail(name, "program headers unreadable (libelf: " + libelf_error() + ")");
  // libelf silently clamps the count to what fits in the file.
  if (nph < eh.e_phnum)
    fail(name, fmt::format("program header table [{:#x}, +{} x {} bytes) lies past the end of the file ({:#x} bytes)",
                           eh.e_phoff, eh.e_phnum, eh.e_phentsize, file.size()));
  // Bounded before anything is read per header: each segment becomes part of the
  // image's memory map, and the checks below compare segments pairwise.
  if (nph > kMaxElfProgramHeaders)
    fail(name, fmt::format("e_phnum {} program headers; at most {} are accepted", nph, kMaxElfProgramHeaders));
  LoadedElf out;
  out.entry = eh.e_entry;
  for (size_t i = 0; i < nph; ++i) {
    GElf_Phdr ph;
    if (!gelf_getphdr(elf.get(), static_cast<int>(i), &ph))
      fail(name, fmt::format("program header {} lies past the end of the file (libelf: {})", i,
                             libelf_error()));
    if (ph.p_type != PT_LOAD) continue;
    ElfSegment s = read_segment(ph, i, file, name);
    if (s.memsz) out.segments.push_back(std::move(s));
  }
  if (out.segments.empty()) fail(name, "no PT_LOAD segment with p_memsz > 0");

  for (size_t a = 0; a < out.segments.size(); ++a)
    for (size_t b = a + 1; b < out.segments.size(); ++b) {
      const ElfSegment& x = out.segments[a];
      const ElfSegment& y = out.segments[b];
      if (x.vaddr < y.end() && y.vaddr < x.end())
        fail(name, fmt::format("segment {} [{:#x}, {:#x}) overlaps segment {} [{:#x}, {:#x})", x.index,
                               x.vaddr, x.end(), y.index, y.vaddr, y.end()));
    }

  const ElfSegment* at_entry = out.segment_holding(out.entry, 1);
  if (!at_entry || !at_entry->executable)
    fail(name, fmt::format("entry point {:#x} is not inside an executable PT_LOAD segment", out.entry));

  read_symbols(elf.get(), name, out);
  return out;
}

}  // namespace tdsim

namespace tdsim {

std::vector<Region> elf_regions(const LoadedElf& elf) {
  constexpr uint64_t kPage = 4096;
  std::vector<const ElfSegment*> segs;
  for (const ElfSegment& s : elf.segments) segs.push_back(&s);
  std::sort(segs.begin(), segs.end(), [](auto* a, auto* b) { return a->vaddr < b->vaddr; });

  std::vector<Region> out;
  std::vector<std::vector<const ElfSegment*>> members;
  for (const ElfSegment* s : segs) {
    const uint64_t lo = s->vaddr & ~(kPage - 1);
    const uint64_t hi = (s->end() + kPage - 1) & ~(kPage - 1);
    // Segments sharing a page must share a region. Touching ones are merged too: that
    // changes no page's contents, measurement or place in the launch order (pages are
    // added in GPA order either way), but keeps the memory map, and every engine
    // mapping made from it, small.
    if (!out.empty() && lo <= out.back().end()) {
      out.back().size = std::max(out.back().end(), hi) - out.back().gpa;
      members.back().push_back(s);
      continue;
    }
    out.push_back(make_region({}, RegionKind::kGuestElf, lo, hi - lo, {}, true));
    members.push_back({s});
  }
  if (out.size() > kMaxElfRegions)
    throw LayoutError("guest_elf", fmt::format("segments occupy {} separate page ranges (touching ones merged); at most {} (each range, and "
                                               "each gap between two, is a region of the TD's memory map)",
                                               out.size(), kMaxElfRegions));
  for (size_t i = 0; i < out.size(); ++i) {
    Region& r = out[i];
    r.bytes.assign(r.size, 0);
    std::string idx;
    for (const ElfSegment* s : members[i]) {
      std::copy(s->bytes.begin(), s->bytes.end(), r.bytes.begin() + (s->vaddr - r.gpa));
      idx += (idx.empty() ? "" : ",") + std::to_string(s->index);
    }
    r.name = "guest-elf[" + idx + "]";
  }
  return out;
}

}  // namespace tdsim
