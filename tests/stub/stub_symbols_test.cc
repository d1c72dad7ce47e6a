// The stub labels read with libelf from a stub's ELF object (bootstub/host/stub_symbols.h)
// against the label table the build compiled into the built-in stub from the same object
// through nm: both must give the same names at the same addresses and sizes.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "bootstub/host/stub_symbols.h"
#include "bootstub/stub/builtin_stub.h"
#include "tdsim/abi/td_boot.h"

namespace tdsim {
namespace {

std::vector<uint8_t> read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(StubSymbols, LibelfLabelsMatchTheBuiltInStubsTable) {
  const auto labels = read_stub_labels(read_file(TDSIM_BUILTIN_STUB_OBJ));
  ASSERT_FALSE(labels.empty());
  EXPECT_EQ(labels.front().name, "td_boot_start");
  EXPECT_EQ(labels.front().offset, 0u);
  const uint64_t size = builtin_stub().size();
  const uint64_t base = abi::kResetVector - size;
  const auto from_elf = stub_label_symbols(labels, base, size);
  const auto built_in = builtin_stub_symbols(base);
  // The built-in table keeps a zero-sized end label; the ELF reader drops labels that name
  // no instruction.
  std::vector<Symbol> expected;
  for (const Symbol& s : built_in)
    if (s.addr < base + size) expected.push_back(s);
  ASSERT_EQ(from_elf.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(from_elf[i].name, expected[i].name);
    EXPECT_EQ(from_elf[i].addr, expected[i].addr) << expected[i].name;
    EXPECT_EQ(from_elf[i].size, expected[i].size) << expected[i].name;
  }
}

TEST(StubSymbols, NotAnObjectIsAnErrorThatSaysSo) {
  const std::vector<uint8_t> blob = read_file(TDSIM_BUILTIN_STUB_BIN);
  try {
    read_stub_labels(blob);
    FAIL() << "a flat blob was accepted as an ELF object";
  } catch (const StubSymbolsError& e) {
    EXPECT_NE(std::string(e.what()).find("not an ELF"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tdsim
