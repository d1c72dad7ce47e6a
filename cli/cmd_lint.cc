// `tdsim lint`: static checks of the image a run would boot (boot parameters, GDT,
// page tables, stub, reset vector). Exit 0 when there is no error, 2 otherwise.
#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <iostream>

#include "bootstub/host/image_builder.h"
#include "commands.h"
#include "diag/lint.h"
#include "run_options.h"

namespace tdsim::cli {

namespace po = boost::program_options;

int cmd_lint(const std::vector<std::string>& args) {
  RunOptions ro;
  po::options_description desc("tdsim lint [options]");
  desc.add_options()("help,h", "this help");
  desc.add(run_options_description(ro));
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  po::notify(vm);
  const TdImage image = build_image(to_layout_spec(ro));
  const auto findings = diag::lint_image(image);
  for (const auto& f : findings) fmt::print("{}\n", diag::format_finding(f));
  const size_t errors = diag::count_errors(findings);
  fmt::print("tdsim lint: {} error(s), {} warning(s)\n", errors, findings.size() - errors);
  return errors ? 2 : 0;
}

}  // namespace tdsim::cli
