// Runs the real `tdsim` with arguments and captures its stdout alone (stderr has lint
// findings and notes) and how it ended. Host test code only.
#pragma once
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace tdsim::ktaptest {

struct TdsimRun {
  int exit_code = -1;
  bool signaled = false;
  std::string output;  // stdout (or what `redirect` sent to the pipe)
};

// `redirect` is appended to the shell command: the default keeps stdout alone;
// "2>&1 >/dev/full" captures stderr while stdout goes to a full disk.
inline TdsimRun run_tdsim(const std::string& args, const std::string& redirect = "2>/dev/null") {
  TdsimRun r;
  std::FILE* p = popen((std::string(TDSIM_BIN) + " " + args + " " + redirect).c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int st = pclose(p);
  r.signaled = WIFSIGNALED(st);
  if (WIFEXITED(st)) r.exit_code = WEXITSTATUS(st);
  return r;
}

// Every byte printable ASCII or a line feed: nothing for a terminal to act on.
inline bool printable_lines(const std::string& out, std::string* why) {
  for (size_t i = 0; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    if (c != '\n' && (c < 0x20 || c > 0x7e)) {
      *why = "byte " + std::to_string(c) + " at offset " + std::to_string(i);
      return false;
    }
  }
  return true;
}

}  // namespace tdsim::ktaptest
