// Bad input: one clear line naming the option or field, a usage exit code, no crash.
#include <gtest/gtest.h>
#include <fmt/format.h>

#include <elf.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

// Hostile files (issue 13, class 7): what is not a regular file is refused by name, at
// once; `timeout` turns the old behaviour (blocking in open(), reading /dev/zero until
// memory runs out) into a failure instead of a hung suite.
std::string bounded(const std::string& args) { return "timeout -s KILL 60 " + tdsim(args); }

// stderr only (stdout dropped), under `timeout`.
CommandResult run_bounded(const std::string& args) {
  CommandResult r;
  std::FILE* p = popen((bounded(args) + " 2>&1 1>/dev/null").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  for (size_t n; (n = fread(buf.data(), 1, buf.size(), p)) > 0;) r.output.append(buf.data(), n);
  const int st = pclose(p);
  r.signaled = WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) >= 124);
  if (WIFEXITED(st)) r.exit_code = WEXITSTATUS(st);
  return r;
}

void expect_refused(const std::string& args, const std::string& fragment) {
  CommandResult r = run_bounded(args);
  EXPECT_FALSE(r.signaled) << args << "\n" << r.output;
  EXPECT_EQ(r.exit_code, kUsage) << args << "\n" << r.output;
  EXPECT_NE(r.output.find(fragment), std::string::npos) << args << "\n" << r.output;
}

std::string fifo(const std::string& name) {
  const std::string path = ::testing::TempDir() + name;
  ::unlink(path.c_str());
  EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0) << path;
  return path;
}

TEST(CliHostileFiles, FifoAsGuestOrStubIsRefusedWithoutBlocking) {
  const std::string f = fifo("h_fifo");
  expect_refused("run --guest " + f, "--guest: '" + f + "' is a FIFO, not a regular file");
  expect_refused("run --stub " + f, "--stub: '" + f + "' is a FIFO, not a regular file");
  expect_refused("lint --guest " + f, "is a FIFO");
  expect_refused("measure --stub " + f, "is a FIFO");
}
TEST(CliHostileFiles, DevZeroIsRefusedNotReadForever) {
  expect_refused("run --guest /dev/zero", "--guest: '/dev/zero' is a character device, not a regular file");
  expect_refused("diff --stub /dev/zero", "--stub: '/dev/zero' is a character device");
}
TEST(CliHostileFiles, SparseHugeGuestIsRefusedBeforeReading) {
  const std::string path = ::testing::TempDir() + "h_sparse.elf";
  { std::ofstream(path, std::ios::binary) << hello_bytes(); }
  ASSERT_EQ(::truncate(path.c_str(), 300ll << 20), 0);  // 300 MiB, nearly all holes
  expect_refused("run --guest " + path, "more than the 67108864 bytes tdsim reads");
}
// The stub's labels come from the ELF object next to it ("<stub>.o"): a FIFO there must
// be refused, not block the run.
TEST(CliHostileFiles, StubObjectThatIsAFifoIsRefused) {
  const std::string stub = temp_file("h_sym.bin", std::string(16, '\x90'));
  const std::string f = ::testing::TempDir() + "h_sym.o";
  ::unlink(f.c_str());
  ASSERT_EQ(::mkfifo(f.c_str(), 0600), 0);
  expect_refused("run --stub " + stub, "is a FIFO");
}
// A write error on the trace file is one line naming the file and exit 70, never an
// uncaught exception (abort, 134). --trace boot writes lines from the stub's first
// instructions, before any guest code runs.
TEST(CliHostileFiles, TraceFileWriteErrorIsCleanAndNamesTheFile) {
  CommandResult r = run_bounded("run --trace boot --trace-file /dev/full");
  EXPECT_FALSE(r.signaled) << r.output;
  EXPECT_EQ(r.exit_code, 70) << r.output;
  EXPECT_NE(r.output.find("--trace-file: writing '/dev/full' failed: No space left on device"), std::string::npos)
      << r.output;
}
TEST(CliHostileFiles, TraceFileFifoWithoutReaderIsRefusedWithoutBlocking) {
  const std::string f = fifo("h_trace_fifo");
  expect_refused("run --trace ucall --trace-file " + f, "is a FIFO nobody reads");
}
TEST(CliHostileFiles, TraceFileOnAPipeWithAReaderWorks) {
  // /dev/stdout here is the pipe popen reads: a character device or FIFO, both allowed.
  CommandResult r;
  {
    std::FILE* p = popen((bounded("run --backend kvm --trace ucall --trace-file /dev/stdout") + " 2>/dev/null").c_str(), "r");
    ASSERT_TRUE(p);
    std::array<char, 4096> buf;
    for (size_t n; (n = fread(buf.data(), 1, buf.size(), p)) > 0;) r.output.append(buf.data(), n);
    const int st = pclose(p);
    r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  if (r.output.find("backend error") != std::string::npos || r.exit_code == 70) GTEST_SKIP() << "no /dev/kvm";
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("vcpu 0 ucall DONE"), std::string::npos) << r.output;
}

// Numbers (the smaller findings of issue 13): decimal unless 0x; a leading 0 is not octal.
TEST(CliNumbers, LeadingZeroIsDecimalNotOctal) {
  // Octal would read 0100 as 64 (accepted); decimal 100 is out of range.
  expect_one_line("run --vcpus 0100", "--vcpus");
  // Octal cannot read 09 at all; decimal 9 is fine, so this reaches the layout.
  CommandResult r = run_stderr_only("lint --vcpus 09");
  EXPECT_NE(r.exit_code, kUsage) << r.output;
  expect_one_line("run --mem 08Mx", "--mem");
}

// --gdb waits a bounded time for a client, then exits 70 saying so; it never hangs.
TEST(CliGdbWait, NoClientWithinTheWaitExits70) {
  CommandResult r = run_bounded("run --gdb 127.0.0.1:0 --gdb-wait 0.3");
  EXPECT_FALSE(r.signaled) << r.output;
  EXPECT_EQ(r.exit_code, 70) << r.output;
  EXPECT_NE(r.output.find("no gdb connected"), std::string::npos) << r.output;
  expect_one_line("run --gdb 127.0.0.1:0 --gdb-wait 0", "--gdb-wait");
}

// Under an address-space limit (ulimit -v, set in the child shell before exec), Unicorn
// engines either fit and run, or tdsim refuses up front with exit 70 and a line naming
// the limit; Unicorn's own exit(1) (read as a guest assert) must never be reached.
TEST(CliAddressSpaceLimit, UnicornRunsOrExits70NeverOne) {
  for (int vcpus : {1, 4, 64})
    for (long kib : {600000L, 1000000L, 2000000L}) {
      SCOPED_TRACE(fmt::format("vcpus {} ulimit -v {}", vcpus, kib));
      const std::string cmd = fmt::format("sh -c 'ulimit -v {} && exec {} run --vcpus {}' 2>&1 >/dev/null", kib,
                                          TDSIM_BIN, vcpus);
      CommandResult r;
      std::FILE* p = popen(cmd.c_str(), "r");
      ASSERT_TRUE(p);
      std::array<char, 4096> buf;
      for (size_t n; (n = fread(buf.data(), 1, buf.size(), p)) > 0;) r.output.append(buf.data(), n);
      const int st = pclose(p);
      ASSERT_TRUE(WIFEXITED(st)) << r.output;
      const int code = WEXITSTATUS(st);
      EXPECT_NE(code, 1) << r.output;
      EXPECT_EQ(r.output.find("Could not allocate"), std::string::npos) << r.output;
      if (code == 70) {
        EXPECT_NE(r.output.find("address-space limit"), std::string::npos) << r.output;
      }
    }
}
}  // namespace
