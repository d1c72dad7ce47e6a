// `tdsim lint`: static checks of the image a run would boot (boot parameters, GDT,
// page tables, stub, reset vector). Exit 0 when there is no error, 1 otherwise (a
// kselftest failure; 2 would read as XFAIL).
#include <fmt/format.h>

#include <boost/program_options.hpp>

#include "bootstub/host/image_builder.h"
#include "core/outcome.h"
#include "core/text_escape.h"
#include "commands.h"
#include "parse_args.h"
#include "diag/lint.h"
#include "run_options.h"

namespace tdsim::cli {

namespace po = boost::program_options;

int cmd_lint(const std::vector<std::string>& args) {
  RunOptions ro;
  po::options_description desc("tdsim lint [options]");
  desc.add(run_options_description(ro));
  if (!parse_args(desc, args)) return 0;
  const TdImage image = build_image(to_layout_spec(ro));
  const auto findings = diag::lint_image(image);
  // Findings quote the image (symbol names from the guest ELF): escaped like all output.
  for (const auto& f : findings) fmt::print("{}\n", escape_text(diag::format_finding(f)));
  const size_t errors = diag::count_errors(findings);
  fmt::print("tdsim lint: {} error(s), {} warning(s)\n", errors, findings.size() - errors);
  return errors ? kExitGuestAssert : kExitDone;
}

}  // namespace tdsim::cli
