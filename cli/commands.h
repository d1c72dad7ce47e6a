// One function per subcommand (cmd_<name>.cc); main.cc dispatches and maps errors to
// exit codes. Each returns the process exit code.
#pragma once
#include <string>
#include <vector>

namespace tdsim::cli {

int cmd_run(const std::vector<std::string>& args);
int cmd_diff(const std::vector<std::string>& args);
int cmd_probe(const std::vector<std::string>& args);
int cmd_measure(const std::vector<std::string>& args);
int cmd_lint(const std::vector<std::string>& args);
int cmd_conformance(const std::vector<std::string>& args);
int cmd_validate(const std::vector<std::string>& args);
int cmd_exec(const std::vector<std::string>& args);

}  // namespace tdsim::cli
