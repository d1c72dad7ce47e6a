// Guest ELFs build_image() must refuse: malformed files, and segments, entry points or
// special symbols the identity layout cannot honour. Field is always "guest_elf".
#include <gtest/gtest.h>

#include "bootstub/host/image_builder.h"
#include "tests/layout/test_elf.h"

namespace tdsim {
namespace {

using layouttest::phdr;
using layouttest::simple_guest;
using layouttest::TestElf;

void expect_elf_error(std::vector<uint8_t> file, std::initializer_list<std::string> fragments) {
  LayoutSpec s;
  s.guest_elf = std::move(file);
  s.guest_elf_name = "bad.elf";
  try {
    build_image(s);
    ADD_FAILURE() << "ELF accepted";
  } catch (const LayoutError& e) {
    EXPECT_EQ(e.field(), "guest_elf") << e.what();
    EXPECT_NE(std::string(e.what()).find("bad.elf"), std::string::npos) << e.what();
    for (const std::string& f : fragments)
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << "'" << f << "' not in: " << e.what();
  }
}

TEST(LayoutElf, EmptyOrNotElf) {
  expect_elf_error({}, {"empty"});
  expect_elf_error(std::vector<uint8_t>(256, 0x5a), {"not an ELF"});
}

TEST(LayoutElf, TruncatedHeader) {
  std::vector<uint8_t> f = simple_guest().build();
  f.resize(40);
  expect_elf_error(f, {"truncated"});
}

TEST(LayoutElf, ProgramHeadersPastTheEnd) {
  std::vector<uint8_t> f = simple_guest().build();
  layouttest::ehdr(f)->e_phoff = f.size() - 8;
  expect_elf_error(f, {"program header"});
}

TEST(LayoutElf, ThirtyTwoBit) { expect_elf_error(layouttest::elf32_file(), {"32-bit"}); }

TEST(LayoutElf, WrongMachine) {
  TestElf e = simple_guest();
  e.machine = EM_AARCH64;
  expect_elf_error(e.build(), {"machine 183", "x86-64"});
}

TEST(LayoutElf, NotExecType) {
  TestElf e = simple_guest();
  e.type = ET_DYN;
  expect_elf_error(e.build(), {"type 3", "ET_EXEC"});
}

TEST(LayoutElf, NoLoadSegment) {
  TestElf e = simple_guest(false);
  e.segments.clear();
  e.symbols.clear();
  expect_elf_error(e.build(), {"no PT_LOAD"});
}

TEST(LayoutElf, SegmentFileBytesPastEnd) {
  std::vector<uint8_t> f = simple_guest().build();
  phdr(f, 1)->p_filesz = 0x100000;
  phdr(f, 1)->p_memsz = 0x100000;
  expect_elf_error(f, {"segment 1 (vaddr 0x401000)", "past the end of the file"});
}

TEST(LayoutElf, FileSizeAboveMemSize) {
  std::vector<uint8_t> f = simple_guest().build();
  phdr(f, 1)->p_memsz = 0x10;
  expect_elf_error(f, {"segment 1", "p_filesz 0x80 > p_memsz 0x10"});
}

TEST(LayoutElf, PaddrDifferentFromVaddr) {
  std::vector<uint8_t> f = simple_guest().build();
  phdr(f, 0)->p_paddr = 0x1000000;
  expect_elf_error(f, {"segment 0", "p_paddr 0x1000000 != p_vaddr 0x400000"});
}

TEST(LayoutElf, OverlappingSegments) {
  TestElf e = simple_guest(false);
  e.segments.push_back({0x400200, std::vector<uint8_t>(0x10, 1), 0, PF_R});
  expect_elf_error(e.build(), {"segment 0 [0x400000, 0x400300) overlaps segment 2 [0x400200, 0x400210)"});
}

TEST(LayoutElf, EntryOutsideExecutableSegments) {
  TestElf e = simple_guest();
  e.entry = 0x500000;
  expect_elf_error(e.build(), {"entry point 0x500000"});
  e.entry = 0x401000;  // data, not executable
  expect_elf_error(e.build(), {"entry point 0x401000", "executable"});
}

// A segment that lies on `gpa` collides with what the layout put there.
void expect_collision(uint64_t gpa, const std::string& other) {
  TestElf e = simple_guest(false);
  e.segments.push_back({gpa, std::vector<uint8_t>(0x10, 1), 0, PF_R});
  expect_elf_error(e.build(), {"bad.elf segment 2 (vaddr ", other});
}

TEST(LayoutElf, SegmentsCollidingWithReservedRegions) {
  expect_collision(0x0, "null-guard page 0");
  expect_collision(0x1000, "page-tables [0x1000, 0xa000)");
  expect_collision(0xa000, "gdt-idt-tss [0xa000, 0xd000)");
  expect_collision(0x800000, "stack-guard[0]");
  expect_collision(0x803000, "stack[0]");
  expect_collision(0xc01000, "ucall-pool");
  expect_collision(0xffff0000, "boot-params [0xffff0000, 0xffff1000)");
  expect_collision(0xfffff800, "boot-stub [0xfffff000, 0x100000000)");
}

TEST(LayoutElf, SegmentsOutsideLowRam) {
  TestElf e = simple_guest(false);
  e.segments.push_back({0x2000000, std::vector<uint8_t>(0x10, 1), 0, PF_R});
  expect_elf_error(e.build(), {"segment 2 (vaddr 0x2000000)", "outside low RAM [0x0, 0x2000000)"});
  e = simple_guest(false);
  e.segments.back().memsz = 0x1c00000;  // bss running past the end of RAM
  expect_elf_error(e.build(), {"segment 1", "outside low RAM"});
}

TEST(LayoutElf, IdtStubsMustBeExecutableAndComplete) {
  TestElf e = simple_guest();
  e.symbols.push_back({"tdsim_idt_stubs", 0x401000, 0x1000, STT_OBJECT});  // in data
  expect_elf_error(e.build(), {"tdsim_idt_stubs", "executable"});
  e = simple_guest();
  e.symbols.push_back({"tdsim_idt_stubs", 0x400100, 0x1000, STT_FUNC});  // runs off the text
  expect_elf_error(e.build(), {"tdsim_idt_stubs [0x400100"});
}

TEST(LayoutElf, GuestConfigTooSmallOrNotLoaded) {
  TestElf e = simple_guest(false);
  e.symbols.push_back({"tdsim_guest_config", 0x401040, 16, STT_OBJECT});
  expect_elf_error(e.build(), {"tdsim_guest_config", "16 bytes", "GuestConfig (48)"});
  e = simple_guest(false);
  e.symbols.push_back({"tdsim_guest_config", 0x500000, 48, STT_OBJECT});
  expect_elf_error(e.build(), {"tdsim_guest_config at 0x500000", "not inside a PT_LOAD"});
}

}  // namespace
}  // namespace tdsim

namespace tdsim {
namespace {

// Any corruption of the ELF, program and section headers is either still a loadable image or a
// LayoutError; never a crash, another exception type, or a read past the buffer.
TEST(LayoutElf, CorruptedHeadersFailCleanlyAsLayoutErrors) {
  const std::vector<uint8_t> good = layouttest::simple_guest().build();
  size_t refused = 0, accepted = 0;
  std::vector<size_t> offsets;
  for (size_t off = 0; off < sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr); ++off) offsets.push_back(off);
  for (size_t off = good.size() - 4 * sizeof(Elf64_Shdr); off < good.size(); ++off) offsets.push_back(off);
  for (size_t off : offsets)
    for (uint8_t v : {uint8_t{0x00}, uint8_t{0xff}, uint8_t{0x80}, uint8_t{0x41}}) {
      LayoutSpec s;
      s.guest_elf = good;
      s.guest_elf[off] = v;
      try {
        build_image(s);
        ++accepted;
      } catch (const LayoutError&) {
        ++refused;
      } catch (const std::exception& e) {
        ADD_FAILURE() << "offset " << off << " = " << int(v) << ": " << e.what();
      }
    }
  EXPECT_GT(refused, 100u);
  EXPECT_GT(accepted, 0u) << "e.g. padding bytes of e_ident do not matter";
}

}  // namespace
}  // namespace tdsim
