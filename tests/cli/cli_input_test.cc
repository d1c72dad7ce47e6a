// Bad input: one clear line naming the option or field, a usage exit code, no crash.
#include <gtest/gtest.h>

#include <elf.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

#include "run_command.h"

namespace {

constexpr int kUsage = 64;

void expect_usage_error(const std::string& args, const std::string& fragment) {
  CommandResult r = run_command(tdsim(args));
  EXPECT_FALSE(r.signaled) << r.output;
  EXPECT_EQ(r.exit_code, kUsage) << args << "\n" << r.output;
  EXPECT_NE(r.output.find(fragment), std::string::npos) << args << "\n" << r.output;
}

std::string temp_file(const std::string& name, const std::string& contents) {
  std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

TEST(CliInput, UnknownCommand) { expect_usage_error("frobnicate", "unknown command 'frobnicate'"); }
TEST(CliInput, UnknownOption) { expect_usage_error("run --frob", "frob"); }
TEST(CliInput, MissingGuestFile) { expect_usage_error("run --guest /nonexistent/x.elf", "--guest: cannot read '/nonexistent/x.elf'"); }
TEST(CliInput, DirectoryAsGuest) { expect_usage_error("run --guest /tmp", "is a directory"); }
TEST(CliInput, EmptyGuestFile) { expect_usage_error("run --guest " + temp_file("empty.elf", ""), "is empty"); }
TEST(CliInput, GarbageGuestFile) { expect_usage_error("run --guest " + temp_file("garbage.elf", "this is not an ELF file at all"), "--guest"); }
TEST(CliInput, TooManyVcpus) { expect_usage_error("run --vcpus 65", "--vcpus"); }
TEST(CliInput, ZeroVcpus) { expect_usage_error("run --vcpus 0", "--vcpus"); }
TEST(CliInput, NegativeVcpus) { expect_usage_error("run --vcpus -1", "vcpus"); }
TEST(CliInput, BadGpaw) { expect_usage_error("run --gpaw 40", "--gpaw"); }
TEST(CliInput, BadMemSuffix) { expect_usage_error("run --mem 32Q", "--mem"); }
TEST(CliInput, BadTimeout) { expect_usage_error("run --timeout -1", "--timeout"); }
TEST(CliInput, UnknownBackend) { expect_usage_error("run --backend qemu", "qemu"); }
TEST(CliInput, OversizedStub) { expect_usage_error("run --stub " + temp_file("big.bin", std::string(200, '\x90')), "--stub"); }

TEST(CliInput, NoArgumentsPrintsUsage) {
  CommandResult r = run_command(tdsim(""));
  EXPECT_EQ(r.exit_code, kUsage);
  EXPECT_NE(r.output.find("usage: tdsim"), std::string::npos);
}

TEST(CliInput, HelpExitsZero) {
  CommandResult r = run_command(tdsim("run --help"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("--vcpus"), std::string::npos);
}


// The bad-input matrix: every case is exactly one line on stderr, a usage exit code, and
// no signal (no crash, no core dump).
CommandResult run_stderr_only(const std::string& args) {
  CommandResult r;
  // 2>&1 first, then 1>/dev/null: the pipe carries stderr alone.
  std::FILE* p = popen((tdsim(args) + " 2>&1 1>/dev/null").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  for (size_t n; (n = fread(buf.data(), 1, buf.size(), p)) > 0;) r.output.append(buf.data(), n);
  const int st = pclose(p);
  r.signaled = WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) >= 128);
  if (WIFEXITED(st)) r.exit_code = WEXITSTATUS(st);
  return r;
}

void expect_one_line(const std::string& args, const std::string& fragment) {
  const CommandResult r = run_stderr_only(args);
  EXPECT_FALSE(r.signaled) << args;
  EXPECT_EQ(r.exit_code, kUsage) << args << "\n" << r.output;
  ASSERT_FALSE(r.output.empty()) << args;
  EXPECT_EQ(r.output.find('\n'), r.output.size() - 1) << "not exactly one line:\n" << r.output;
  EXPECT_NE(r.output.find(fragment), std::string::npos) << args << "\n" << r.output;
}

std::string hello_bytes() {
  std::ifstream in(TDSIM_GUEST_HELLO_ELF, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The hello guest with its last PT_LOAD moved (vaddr and paddr) to `gpa`.
std::string hello_with_last_segment_at(uint64_t gpa) {
  std::string f = hello_bytes();
  auto* eh = reinterpret_cast<Elf64_Ehdr*>(f.data());
  Elf64_Phdr* last = nullptr;
  for (size_t i = 0; i < eh->e_phnum; ++i) {
    auto* ph = reinterpret_cast<Elf64_Phdr*>(f.data() + eh->e_phoff + i * sizeof(Elf64_Phdr));
    if (ph->p_type == PT_LOAD) last = ph;
  }
  if (last) last->p_vaddr = last->p_paddr = gpa;
  return f;
}

std::string elf32() {
  Elf32_Ehdr eh{};
  std::copy(ELFMAG, ELFMAG + SELFMAG, eh.e_ident);
  eh.e_ident[EI_CLASS] = ELFCLASS32;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_386;
  eh.e_version = EV_CURRENT;
  eh.e_ehsize = sizeof eh;
  return std::string(reinterpret_cast<const char*>(&eh), sizeof eh);
}

TEST(CliBadInputMatrix, MissingGuest) { expect_one_line("run --guest /nonexistent/x.elf", "cannot read"); }
TEST(CliBadInputMatrix, MissingStub) { expect_one_line("run --stub /nonexistent/s.bin", "--stub"); }
TEST(CliBadInputMatrix, DirectoryAsGuest) { expect_one_line("run --guest /tmp", "is a directory"); }
TEST(CliBadInputMatrix, DirectoryAsStub) { expect_one_line("run --stub /tmp", "is a directory"); }
TEST(CliBadInputMatrix, EmptyGuest) { expect_one_line("run --guest " + temp_file("m_empty.elf", ""), "is empty"); }
TEST(CliBadInputMatrix, EmptyStub) { expect_one_line("run --stub " + temp_file("m_empty.bin", ""), "--stub"); }
TEST(CliBadInputMatrix, OversizedStub) {
  expect_one_line("run --stub " + temp_file("m_big.bin", std::string(127, '\x90')), "too large");
}
TEST(CliBadInputMatrix, GarbageGuest) {
  expect_one_line("run --guest " + temp_file("m_garbage.elf", std::string(4096, '\xa5')), "not an ELF file");
}
TEST(CliBadInputMatrix, TruncatedGuests) {
  const std::string hello = hello_bytes();
  ASSERT_GT(hello.size(), 4096u);
  for (size_t n : {4ul, 16ul, 63ul, 64ul, 100ul, 300ul, 4200ul, hello.size() - 1}) {
    SCOPED_TRACE(n);
    expect_one_line("run --guest " + temp_file("m_trunc.elf", hello.substr(0, n)), "--guest");
  }
}
TEST(CliBadInputMatrix, ThirtyTwoBitGuest) {
  expect_one_line("run --guest " + temp_file("m_elf32.elf", elf32()), "32-bit ELF");
}
TEST(CliBadInputMatrix, GuestSegmentOnBootParams) {
  expect_one_line("run --guest " + temp_file("m_params.elf", hello_with_last_segment_at(0xffff0000)),
                  "overlaps boot-params");
}
TEST(CliBadInputMatrix, GuestSegmentOnPageTables) {
  expect_one_line("run --guest " + temp_file("m_tables.elf", hello_with_last_segment_at(0x2000)),
                  "overlaps page-tables");
}
TEST(CliBadInputMatrix, GuestSegmentOnNullPage) {
  expect_one_line("run --guest " + temp_file("m_null.elf", hello_with_last_segment_at(0x0)), "null-guard");
}
TEST(CliBadInputMatrix, OutOfRangeNumbers) {
  for (const char* a : {"--vcpus 99999999999999999999", "--vcpus 65", "--mem 0x1", "--mem 5G", "--gpaw 48x",
                        "--timeout abc", "--timeout 0", "--max-insns 0", "--max-insns -5"}) {
    SCOPED_TRACE(a);
    expect_one_line(std::string("run ") + a, std::string(a).substr(0, std::string(a).find(' ')));
  }
}
TEST(CliBadInputMatrix, UnknownOptionAndMissingValue) {
  expect_one_line("run --frob", "--frob");
  expect_one_line("run --vcpus", "--vcpus");
}
}  // namespace
