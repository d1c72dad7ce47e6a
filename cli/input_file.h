// Reading the files a user names on the command line (--guest, --stub, a stub's symbol
// list) without trusting what they are: a FIFO must not block open() forever, a device
// like /dev/zero must not be read until memory runs out, a sparse file must not be read
// past a bound. Only regular files are read, and only up to a documented size.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tdsim::cli {

// Largest --guest file read: far above any selftest-style guest (the hello guest
// is ~54 KiB with debug info), far below what would strain the host when it is copied
// into the image.
inline constexpr uint64_t kMaxGuestFileBytes = 64ull << 20;
// Largest --stub file read: a stub must fit its page, so a few KiB already fail the
// layout's own check; the bound only stops the read early.
inline constexpr uint64_t kMaxStubFileBytes = 1ull << 20;
// Largest stub object (the ELF next to a --stub blob, read for its labels).
inline constexpr uint64_t kMaxSymbolFileBytes = 16ull << 20;

// The bytes of the regular file `path`, at most `max_bytes` of them. Opens without
// blocking (a FIFO returns at once), checks the opened file with fstat, and reads with
// a bound even if the file grows meanwhile. Throws UsageError naming `option` and the
// path for: a missing/unreadable file, a directory, anything not a regular file, an
// empty file, a file over the bound, a read error.
std::vector<uint8_t> read_input_file(const std::string& path, const char* option, uint64_t max_bytes);

// "a FIFO", "a character device", ... for messages about st_mode.
const char* file_type_name(unsigned mode);

}  // namespace tdsim::cli
