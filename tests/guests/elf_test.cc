// Every guest ELF built for tests (and the hello example) has the shape the layout
// module relies on: static x86-64 ET_EXEC entered at 0x400000, a patchable config
// block in the file, and the 256 IDT stubs.
#include <gelf.h>
#include <gtest/gtest.h>
#include <libelf.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "tdsim/abi/guest_config.h"
#include "tests/guests/test_assets.h"

namespace {

struct GuestAsset {
  const char* name;
  const char* path;
};

const GuestAsset kGuests[] = {
    {"hello", TDSIM_GUEST_HELLO_ELF},
    {"assert", TDSIM_GUEST_ASSERT_ELF},
    {"boot_state", TDSIM_GUEST_BOOT_STATE_ELF},
    {"smp", TDSIM_GUEST_SMP_ELF},
    {"loop_forever", TDSIM_GUEST_LOOP_FOREVER_ELF},
    {"private_gpa_ucall", TDSIM_GUEST_PRIVATE_GPA_UCALL_ELF},
    {"bad_ucall_address", TDSIM_GUEST_BAD_UCALL_ADDRESS_ELF},
    {"printf_cases", TDSIM_GUEST_PRINTF_CASES_ELF},
    {"unhandled_ud", TDSIM_GUEST_UNHANDLED_UD_ELF},
};

struct SymbolInfo {
  GElf_Sym sym;
  GElf_Shdr section;
};

// Owns the libelf handle over an in-memory copy of the file.
class ElfFile {
 public:
  explicit ElfFile(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {
    elf_version(EV_CURRENT);
    if (!bytes_.empty())
      elf_ = elf_memory(reinterpret_cast<char*>(bytes_.data()), bytes_.size());
  }
  ~ElfFile() {
    if (elf_ != nullptr) elf_end(elf_);
  }
  ElfFile(const ElfFile&) = delete;
  ElfFile& operator=(const ElfFile&) = delete;

  Elf* get() const { return elf_; }

  std::optional<SymbolInfo> symbol(const std::string& name) const {
    Elf_Scn* scn = nullptr;
    while ((scn = elf_nextscn(elf_, scn)) != nullptr) {
      GElf_Shdr sh;
      if (gelf_getshdr(scn, &sh) == nullptr || sh.sh_type != SHT_SYMTAB) continue;
      Elf_Data* data = elf_getdata(scn, nullptr);
      const size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
      for (size_t i = 0; i < n; ++i) {
        GElf_Sym sym;
        if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr) continue;
        const char* sname = elf_strptr(elf_, sh.sh_link, sym.st_name);
        if (sname == nullptr || name != sname) continue;
        SymbolInfo info{sym, {}};
        Elf_Scn* owner = elf_getscn(elf_, sym.st_shndx);
        if (owner == nullptr || gelf_getshdr(owner, &info.section) == nullptr) return std::nullopt;
        return info;
      }
    }
    return std::nullopt;
  }

 private:
  std::vector<uint8_t> bytes_;
  Elf* elf_ = nullptr;
};

class GuestElfTest : public testing::TestWithParam<GuestAsset> {};

TEST_P(GuestElfTest, IsStaticX86_64ExecutableEnteredAt4MiB) {
  ElfFile elf(tdsim::test::read_asset(GetParam().path));
  ASSERT_NE(elf.get(), nullptr) << GetParam().path << ": " << elf_errmsg(-1);
  ASSERT_EQ(elf_kind(elf.get()), ELF_K_ELF);
  ASSERT_EQ(gelf_getclass(elf.get()), ELFCLASS64);
  GElf_Ehdr eh;
  ASSERT_NE(gelf_getehdr(elf.get(), &eh), nullptr);
  EXPECT_EQ(eh.e_machine, EM_X86_64);
  EXPECT_EQ(eh.e_type, ET_EXEC);
  EXPECT_EQ(eh.e_entry, 0x400000u);
  auto start = elf.symbol("_start");
  ASSERT_TRUE(start.has_value());
  EXPECT_EQ(start->sym.st_value, eh.e_entry);
  EXPECT_TRUE(elf.symbol("guest_main").has_value());
}

TEST_P(GuestElfTest, HasNoRelocationsOrDynamicSegment) {
  ElfFile elf(tdsim::test::read_asset(GetParam().path));
  ASSERT_NE(elf.get(), nullptr);
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf.get(), scn)) != nullptr) {
    GElf_Shdr sh;
    ASSERT_NE(gelf_getshdr(scn, &sh), nullptr);
    EXPECT_NE(sh.sh_type, SHT_RELA);
    EXPECT_NE(sh.sh_type, SHT_REL);
    EXPECT_NE(sh.sh_type, SHT_DYNAMIC);
  }
  size_t nph = 0;
  ASSERT_EQ(elf_getphdrnum(elf.get(), &nph), 0);
  for (size_t i = 0; i < nph; ++i) {
    GElf_Phdr ph;
    ASSERT_NE(gelf_getphdr(elf.get(), static_cast<int>(i), &ph), nullptr);
    EXPECT_NE(ph.p_type, PT_INTERP);
    EXPECT_NE(ph.p_type, PT_DYNAMIC);
    if (ph.p_type == PT_LOAD) {
      EXPECT_GE(ph.p_vaddr, 0x400000u) << "segment " << i;
      EXPECT_EQ(ph.p_vaddr, ph.p_paddr) << "segment " << i << " (identity mapped)";
    }
  }
}

TEST_P(GuestElfTest, ConfigBlockHasBytesInTheFile) {
  ElfFile elf(tdsim::test::read_asset(GetParam().path));
  ASSERT_NE(elf.get(), nullptr);
  auto cfg = elf.symbol(tdsim::abi::kGuestConfigSymbol);
  ASSERT_TRUE(cfg.has_value()) << "no " << tdsim::abi::kGuestConfigSymbol;
  EXPECT_EQ(cfg->sym.st_size, sizeof(tdsim::abi::GuestConfig));
  // NOBITS (.bss) would give the host nothing to patch.
  EXPECT_EQ(cfg->section.sh_type, SHT_PROGBITS);
  EXPECT_TRUE(cfg->section.sh_flags & SHF_ALLOC);
  EXPECT_TRUE(cfg->section.sh_flags & SHF_WRITE);
  EXPECT_EQ(cfg->sym.st_value % 8, 0u);
}

TEST_P(GuestElfTest, HasAll256IdtStubsAtTheStride) {
  ElfFile elf(tdsim::test::read_asset(GetParam().path));
  ASSERT_NE(elf.get(), nullptr);
  auto stubs = elf.symbol(tdsim::abi::kIdtStubsSymbol);
  ASSERT_TRUE(stubs.has_value()) << "no " << tdsim::abi::kIdtStubsSymbol;
  // Each stub starts on a 16-byte boundary, so a total of exactly 256 * 16 bytes means
  // none outgrew its slot.
  EXPECT_EQ(stubs->sym.st_size, 256 * tdsim::abi::kIdtStubStride);
  EXPECT_EQ(stubs->sym.st_value % tdsim::abi::kIdtStubStride, 0u);
  EXPECT_TRUE(stubs->section.sh_flags & SHF_EXECINSTR);
}

INSTANTIATE_TEST_SUITE_P(AllGuests, GuestElfTest, testing::ValuesIn(kGuests),
                         [](const testing::TestParamInfo<GuestAsset>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
