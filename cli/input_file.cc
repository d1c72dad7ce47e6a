#include "input_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "run_options.h"

namespace tdsim::cli {

const char* file_type_name(unsigned mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return "a regular file";
    case S_IFDIR: return "a directory";
    case S_IFIFO: return "a FIFO";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFSOCK: return "a socket";
    case S_IFLNK: return "a symbolic link";
  }
  return "not a regular file";
}

namespace {

// Closes the descriptor on every path out, including the throws.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::vector<uint8_t> read_input_file(const std::string& path, const char* option, uint64_t max_bytes) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
  // The type is checked on the opened descriptor (fstat), so the file cannot be swapped
  // between a check and the open.
  Fd f{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
  if (f.fd < 0) throw UsageError(fmt::format("{}: cannot read '{}': {}", option, path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0)
    throw UsageError(fmt::format("{}: cannot read '{}': {}", option, path, std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) throw UsageError(fmt::format("{}: '{}' is a directory, not a file", option, path));
  if (!S_ISREG(st.st_mode))
    throw UsageError(fmt::format("{}: '{}' is {}, not a regular file", option, path, file_type_name(st.st_mode)));
  if (st.st_size == 0) throw UsageError(fmt::format("{}: '{}' is empty", option, path));
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    throw UsageError(fmt::format("{}: '{}' is {} bytes, more than the {} bytes tdsim reads", option, path,
                                 st.st_size, max_bytes));
  // Read one byte past the bound: a file that grew since fstat is refused, not cut short.
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size) + 1);
  size_t have = 0;
  for (;;) {
    if (have == bytes.size()) {
      if (have > max_bytes)
        throw UsageError(fmt::format("{}: '{}' grew past the {} bytes tdsim reads", option, path, max_bytes));
      bytes.resize(std::min<uint64_t>(max_bytes + 1, bytes.size() * 2));
    }
    const ssize_t n = ::read(f.fd, bytes.data() + have, bytes.size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw UsageError(fmt::format("{}: error reading '{}': {}", option, path, std::strerror(errno)));
    if (n == 0) break;
    have += static_cast<size_t>(n);
  }
  if (have > max_bytes)
    throw UsageError(fmt::format("{}: '{}' grew past the {} bytes tdsim reads", option, path, max_bytes));
  if (have == 0) throw UsageError(fmt::format("{}: '{}' is empty", option, path));
  bytes.resize(have);
  return bytes;
}

}  // namespace tdsim::cli
