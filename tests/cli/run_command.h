// Runs a shell command line and captures its combined output and exit status.
#pragma once
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

struct CommandResult {
  int exit_code = -1;
  bool signaled = false;
  std::string output;
};

inline CommandResult run_command(const std::string& cmd) {
  CommandResult r;
  std::FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  int st = pclose(p);
  r.signaled = WIFSIGNALED(st);
  if (WIFEXITED(st)) r.exit_code = WEXITSTATUS(st);
  return r;
}

// A test written inside namespace tdsim defines TDSIM_RUN_COMMAND_NO_TDSIM_HELPER: a
// global function of the namespace's name cannot coexist with it.
#ifndef TDSIM_RUN_COMMAND_NO_TDSIM_HELPER
inline std::string tdsim(const std::string& args) { return std::string(TDSIM_BIN) + " " + args; }
#endif
